namespace Harness.Safety;

/// <summary>
/// The first, instant half of "one run per cluster": an exclusive lock file per profile on this machine, taken before
/// anything slow (vagrant discovery alone takes seconds). The kernel drops it when the holder dies, however it dies.
/// Runs from other machines are kept off by the cluster-side <see cref="RunLease"/>.
/// </summary>
public sealed class LocalRunLock : IDisposable
{
    private readonly FileStream _lock;
    private readonly string _holderFile;

    private LocalRunLock(FileStream @lock, string holderFile)
    {
        _lock = @lock;
        _holderFile = holderFile;
    }

    public static LocalRunLock Acquire(string path, string holder)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var holderFile = path + ".holder";
        FileStream locked;
        try
        {
            // .NET takes an advisory flock for FileShare.None on Unix: a second open fails while this one lives.
            locked = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            var held = File.Exists(holderFile) ? File.ReadAllText(holderFile).Trim() : "another run on this machine";
            throw new ClusterBusyException($"Another verification run holds this cluster: {held} (local lock {path}).");
        }
        File.WriteAllText(holderFile, $"{holder}, since {DateTimeOffset.UtcNow:yyyy-MM-dd HH:mm:ss} UTC");
        return new LocalRunLock(locked, holderFile);
    }

    public void Dispose()
    {
        File.Delete(_holderFile);
        _lock.Dispose();
    }
}
