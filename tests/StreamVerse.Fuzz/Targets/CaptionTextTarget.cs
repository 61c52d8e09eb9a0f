using StreamVerse.ControlPlane.Captions;

namespace StreamVerse.Fuzz.Targets;

/// <summary>
/// Uploaded caption files (WebVTT or SubRip, any bytes). Invariants: no exception; a refusal says why; an accepted file
/// becomes WebVTT that the parser accepts again unchanged (the stored form is a fixed point) with the same number of cues;
/// allocation follows the input.
/// </summary>
internal static class CaptionTextTarget
{
    public static void Run(byte[] input)
    {
        var mark = Check.AllocationMark();
        var document = CaptionText.Parse(input, out var error);
        Check.AllocatedAtMost(mark, input.Length, 64, "caption text");
        if (document is null)
        {
            Check.That(!string.IsNullOrEmpty(error), "a refused caption file without a reason");
            return;
        }

        Check.That(error is null && document.Cues > 0, $"accepted with error '{error}' and {document.Cues} cues");
        var again = CaptionText.Parse(System.Text.Encoding.UTF8.GetBytes(document.WebVtt), out var againError);
        Check.That(again is not null, $"the stored WebVTT is refused: {againError}");
        Check.That(again!.WebVtt == document.WebVtt && again.Cues == document.Cues, "the stored WebVTT changes when read again");
    }
}
