using StreamVerse.Origin.Hosting;

try
{
    var app = OriginHost.Build(args);
    await app.RunAsync().ConfigureAwait(false);
    return 0;
}
catch (CommandLineException e)
{
    await Console.Error.WriteLineAsync("streamverse: " + e.Message).ConfigureAwait(false);
    return 2;
}
catch (Microsoft.Extensions.Options.OptionsValidationException e)
{
    await Console.Error.WriteLineAsync("streamverse: invalid configuration: " + string.Join("; ", e.Failures)).ConfigureAwait(false);
    return 2;
}
