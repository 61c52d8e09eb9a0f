using System.IO.Pipelines;

namespace StreamVerse.Origin.Hosting;

/// <summary>A connection's transport with its input replaced (<see cref="ThreadPoolInput"/>, the event loops' <c>PrefixedPipeReader</c>).</summary>
internal sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
{
    public PipeReader Input { get; } = input;

    public PipeWriter Output { get; } = output;
}
