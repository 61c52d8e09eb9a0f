using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;

namespace StreamVerse.Origin.Configuration;

/// <summary>
/// One configuration layer holding what may change while the daemon runs: the <c>--config</c> JSON file (reloaded on
/// change) under the keys read from etcd (etcd wins). A change is not passed on as it arrives: the whole new set (the
/// candidate) goes to the <see cref="ConfigurationGuard"/>, which validates it with every options validator against
/// the rest of the configuration, and only an accepted candidate replaces this layer's data, in one step, followed by
/// one reload notification. A refused candidate changes nothing: the previous values stay in force.
/// </summary>
internal sealed class DynamicConfigurationProvider : ConfigurationProvider, IDisposable
{
    public const string FileSource = "file";
    public const string EtcdSource = "etcd";

    private readonly Lock _lock = new();
    private readonly DynamicConfigurationSettings _settings;
    private readonly JsonConfigurationProvider? _file;
    private readonly PhysicalFileProvider? _fileProvider;
    private EtcdConfigurationWatcher? _etcd;
    private IDisposable? _fileChanges;
    private string? _fileError;
    private Dictionary<string, string> _sources = new(StringComparer.OrdinalIgnoreCase);

    public DynamicConfigurationProvider(DynamicConfigurationSettings settings)
    {
        _settings = settings;
        if (settings.File is { } path)
        {
            if (!Directory.Exists(Path.GetDirectoryName(path)))
            {
                throw new OptionsValidationException(DynamicConfigurationSettings.FileKey, typeof(DynamicConfigurationSettings),
                    [$"{DynamicConfigurationSettings.FileKey}: cannot read {path}: no such directory"]);
            }

            _fileProvider = new PhysicalFileProvider(Path.GetDirectoryName(path)!);
            var source = new JsonConfigurationSource
            {
                Path = Path.GetFileName(path),
                FileProvider = _fileProvider,
                Optional = false,
                ReloadOnChange = true,
                ReloadDelay = 200,
                // A file that does not parse (or is missing half-way through an editor's save) is a refused candidate,
                // not an empty configuration: the provider would otherwise clear its data and reload with defaults.
                OnLoadException = context =>
                {
                    _fileError = context.Exception.InnerException?.Message ?? context.Exception.Message;
                    context.Ignore = true;
                },
            };
            _file = new JsonConfigurationProvider(source);
        }
    }

    /// <summary>Set once the container is built; before that (at start) every candidate is taken as it is and validated
    /// by <c>ValidateOnStart</c> like any other configuration.</summary>
    public ConfigurationGuard? Guard { get; set; }

    public DynamicConfigurationSettings Settings => _settings;

    public EtcdConfigurationWatcher? Etcd => _etcd;

    /// <summary>Where each key of this layer came from (<see cref="FileSource"/> or <see cref="EtcdSource"/>).</summary>
    public IReadOnlyDictionary<string, string> Sources => _sources;

    /// <summary>This layer's keys and values in force.</summary>
    public IReadOnlyDictionary<string, string?> Current => (IReadOnlyDictionary<string, string?>)Data;

    public override void Load()
    {
        _file?.Load();
        if (_fileError is { } error)
        {
            throw new OptionsValidationException(DynamicConfigurationSettings.FileKey, typeof(DynamicConfigurationSettings),
                [$"{DynamicConfigurationSettings.FileKey}: cannot read {_settings.File}: {error}"]);
        }

        if (_settings.EtcdEndpoints.Count > 0 && _etcd is null)
        {
            _etcd = ConnectEtcd();
            _etcd.Changed = Changed;
            _etcd.Start();
        }

        var (data, sources) = Candidate();
        Data = data;
        _sources = sources;
        _fileChanges ??= _file is null ? null : ChangeToken.OnChange(_file.GetReloadToken, Changed);
    }

    private EtcdConfigurationWatcher ConnectEtcd()
    {
        OptionsValidationException? last = null;
        foreach (var endpoint in _settings.EtcdEndpoints)
        {
            var watcher = new EtcdConfigurationWatcher(endpoint, _settings.EtcdPrefix);
            try
            {
                watcher.Load();
                return watcher;
            }
            catch (OptionsValidationException e)
            {
                watcher.Dispose();
                last = e;
            }
        }

        throw last!;
    }

    private (Dictionary<string, string?> Data, Dictionary<string, string> Sources) Candidate()
    {
        var data = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        var sources = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        if (_file is not null)
        {
            Collect(_file, null, data, sources, FileSource);
        }

        if (_etcd is not null)
        {
            foreach (var (key, value) in _etcd.Values)
            {
                data[key] = value;
                sources[key] = EtcdSource;
            }
        }

        return (data, sources);
    }

    private static void Collect(IConfigurationProvider provider, string? parent, Dictionary<string, string?> data, Dictionary<string, string> sources, string source)
    {
        foreach (var child in provider.GetChildKeys([], parent).Distinct(StringComparer.OrdinalIgnoreCase))
        {
            var key = parent is null ? child : parent + ConfigurationPath.KeyDelimiter + child;
            if (provider.TryGet(key, out var value) && value is not null)
            {
                data[key] = value;
                sources[key] = source;
            }

            Collect(provider, key, data, sources, source);
        }
    }

    /// <summary>The file or etcd changed: decide on the whole new set, under a lock so two changes are decided in turn.</summary>
    private void Changed()
    {
        lock (_lock)
        {
            var fileError = Interlocked.Exchange(ref _fileError, null);
            var (candidate, sources) = Candidate();
            var guard = Guard;
            if (guard is not null)
            {
                var problems = fileError is null ? null : new List<string> { $"{DynamicConfigurationSettings.FileKey}: cannot read {_settings.File}: {fileError}" };
                if (!guard.Accept(this, candidate, (IReadOnlyDictionary<string, string?>)Data, problems))
                {
                    return;
                }
            }
            else if (fileError is not null)
            {
                return;
            }

            var previous = (IReadOnlyDictionary<string, string?>)Data;
            Data = candidate;
            _sources = sources;
            guard?.Committed(candidate, previous);
        }

        try
        {
            OnReload();
        }
        catch (Exception e) when (e is OptionsValidationException or InvalidOperationException)
        {
            // Every validator ran on the candidate before it was taken; a consumer that still throws is logged, not fatal.
            Guard?.ReloadFailed(e);
        }
    }

    public void Dispose()
    {
        _fileChanges?.Dispose();
        _file?.Dispose();
        _fileProvider?.Dispose();
        _etcd?.Dispose();
    }
}

/// <summary>Adds the <see cref="DynamicConfigurationProvider"/>; the provider it built is kept for the guard and the admin view.</summary>
internal sealed class DynamicConfigurationSource(DynamicConfigurationSettings settings) : IConfigurationSource
{
    public DynamicConfigurationProvider? Provider { get; private set; }

    public IConfigurationProvider Build(IConfigurationBuilder builder) => Provider ??= new DynamicConfigurationProvider(settings);
}

/// <summary>The daemon's flags (<see cref="Hosting.CommandLine"/>), a layer of its own so the admin view can say "command line".</summary>
internal sealed class FlagsConfigurationSource(IDictionary<string, string?> values) : IConfigurationSource
{
    public IConfigurationProvider Build(IConfigurationBuilder builder) => new FlagsConfigurationProvider(values);
}

internal sealed class FlagsConfigurationProvider(IDictionary<string, string?> values) : ConfigurationProvider
{
    public override void Load() => Data = new Dictionary<string, string?>(values, StringComparer.OrdinalIgnoreCase);
}
