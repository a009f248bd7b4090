using System.Runtime.CompilerServices;

// The harness's own tests reach a few knobs that production code has no reason to turn (e.g. a wait's timings).
[assembly: InternalsVisibleTo("Harness.Tests")]
[assembly: InternalsVisibleTo("Harness.IntegrationTests")]
