using StreamVerse.Origin.Hosting;

var app = OriginHost.Build(args);
await app.RunAsync().ConfigureAwait(false);
