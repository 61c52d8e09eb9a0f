namespace StreamVerse.Fuzz;

/// <summary>
/// The deterministic half of fuzzing: every committed input (the seed corpora and the regressions/ inputs of past
/// findings) goes through its target in-process, uninstrumented, on every test run. afl.sh runs the random half.
/// </summary>
public sealed class CorpusReplayTests
{
    private static readonly string Root = AppContext.BaseDirectory;

    public static TheoryData<string> Targets() => [.. FuzzTargets.All.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Targets))]
    public void Every_committed_input_runs_clean(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var seeds = Inputs("corpus", name);
        Assert.True(seeds.Count >= 3, $"corpus/{name} holds {seeds.Count} seeds; a target starts from a few valid and edge-case inputs");

        var failures = new List<string>();
        foreach (var file in seeds.Concat(Inputs("regressions", name)))
        {
            var input = File.ReadAllBytes(file);
            try
            {
                target.Run(input);
            }
            catch (Exception e)
            {
                failures.Add($"{Path.GetRelativePath(Root, file)} (base64 {Convert.ToBase64String(input)}): {e}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    /// <summary>The session seed reaches what the target is for: a publish with media, ended once.</summary>
    [Fact]
    public void The_session_seed_publishes()
    {
        var sinks = StreamVerse.Fuzz.Targets.RtmpSessionTarget.Session(File.ReadAllBytes(Path.Combine(Root, "corpus", "rtmp-session", "publish-and-unpublish")));
        var sink = Assert.Single(sinks);
        Assert.Equal((3, 3, 1), (sink.VideoSamples, sink.AudioSamples, sink.Ends));
    }

    [Fact]
    public void Every_corpus_folder_names_a_target()
    {
        foreach (var kind in new[] { "corpus", "regressions" })
        {
            var dir = Path.Combine(Root, kind);
            if (Directory.Exists(dir))
            {
                foreach (var folder in Directory.EnumerateDirectories(dir))
                {
                    Assert.NotNull(FuzzTargets.Find(Path.GetFileName(folder)));
                }
            }
        }
    }

    private static List<string> Inputs(string kind, string target)
    {
        var dir = Path.Combine(Root, kind, target);
        return Directory.Exists(dir) ? [.. Directory.EnumerateFiles(dir).Order(StringComparer.Ordinal)] : [];
    }
}
