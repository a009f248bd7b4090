using Harness.Safety;
using NUnit.Framework;

namespace Harness.Tests.Safety;

public class LocalRunLockTests
{
    [Test]
    public void A_second_run_is_refused_naming_the_holder_until_the_first_lets_go()
    {
        var dir = Directory.CreateTempSubdirectory("run-lock-").FullName;
        var path = Path.Combine(dir, "run-lab.lock");
        try
        {
            using (LocalRunLock.Acquire(path, "host/pid 1/run first"))
            {
                var refused = Assert.Throws<ClusterBusyException>(() => LocalRunLock.Acquire(path, "host/pid 2/run second"))!;
                Assert.That(refused.Message, Does.StartWith("Another verification run holds this cluster: host/pid 1/run first, since "));
                Assert.That(refused.Message, Does.Contain(path));
            }
            using var second = LocalRunLock.Acquire(path, "host/pid 2/run second");
            Assert.That(File.ReadAllText(path + ".holder"), Does.StartWith("host/pid 2/run second"));
        }
        finally { Directory.Delete(dir, recursive: true); }
    }
}
