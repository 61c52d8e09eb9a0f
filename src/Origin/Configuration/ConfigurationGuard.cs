using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Prometheus;

namespace StreamVerse.Origin.Configuration;

/// <summary>
/// Decides whether a changed dynamic configuration (file or etcd) is taken. The candidate is validated as a whole, as
/// <c>ValidateOnStart</c> validates at start: a shadow configuration (every other layer as it is, the candidate in
/// place of the dynamic layer) is bound to a fresh instance of every options class that has validators, and every
/// <see cref="IValidateOptions{TOptions}"/> registered for it runs. One failure refuses the whole candidate: it is
/// logged with the key, counted in <c>streamverse_config_rejected_total</c>, and the previous values stay.
/// An accepted candidate's changed keys that are read only at start are logged and listed as pending a restart.
/// </summary>
internal sealed partial class ConfigurationGuard
{
    private static readonly Counter Rejected = Metrics.CreateCounter("streamverse_config_rejected_total",
        "Dynamic configuration changes (file or etcd) refused: a value failed validation or the file did not parse; the previous values stayed.");

    private static readonly Counter Applied = Metrics.CreateCounter("streamverse_config_reloads_total",
        "Dynamic configuration changes (file or etcd) validated and applied.");

    private readonly IServiceProvider _services;
    private readonly IConfigurationRoot _root;
    private IReadOnlyList<ValidatedOptions> _options;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly SortedDictionary<string, string> _pendingRestart = new(StringComparer.OrdinalIgnoreCase);

    public ConfigurationGuard(IServiceProvider services, IConfiguration configuration, ValidatedOptionsTypes types, ILogger<ConfigurationGuard> logger)
    {
        _services = services;
        _root = (IConfigurationRoot)configuration;
        _options = types.Types;
        _logger = logger;
    }

    /// <summary>Keys changed since start that take effect only after a restart, with the time of the change.</summary>
    public IReadOnlyDictionary<string, string> PendingRestart
    {
        get
        {
            lock (_lock)
            {
                return new Dictionary<string, string>(_pendingRestart, StringComparer.OrdinalIgnoreCase);
            }
        }
    }

    /// <summary>Wires the guard to the dynamic layer (once the container exists) and logs etcd watch failures.</summary>
    public void Attach(DynamicConfigurationProvider provider)
    {
        // An options class whose registration fills values the binder alone does not (a Configure callback) could fail
        // the shadow check on the configuration in force; such a class is left to its own start-time validation.
        var consistent = new List<ValidatedOptions>();
        foreach (var options in _options)
        {
            var problems = new List<string>();
            options.Validate(_services, _root, problems);
            if (problems.Count == 0)
            {
                consistent.Add(options);
            }
            else
            {
                Log.NotShadowValidated(_logger, options.Section, problems[0]);
            }
        }

        _options = consistent;
        provider.Guard = this;
        if (provider.Etcd is { } etcd)
        {
            etcd.Failed = e => Log.EtcdWatchFailed(_logger, etcd.Endpoint, e.Message);
        }
    }

    public bool Accept(DynamicConfigurationProvider provider, IReadOnlyDictionary<string, string?> candidate, IReadOnlyDictionary<string, string?> current, List<string>? problems)
    {
        var changed = Changed(candidate, current);
        if (changed.Count == 0 && problems is null)
        {
            return false;
        }

        problems ??= [];
        if (problems.Count == 0)
        {
            problems.AddRange(Validate(provider, candidate));
        }

        if (problems.Count > 0)
        {
            Rejected.Inc();
            foreach (var problem in problems)
            {
                Log.Refused(_logger, problem);
            }

            return false;
        }

        return true;
    }

    /// <summary>After the provider took an accepted candidate: counted, and each changed key logged as applied or pending a restart.</summary>
    public void Committed(IReadOnlyDictionary<string, string?> taken, IReadOnlyDictionary<string, string?> previous)
    {
        Applied.Inc();
        var now = DateTimeOffset.UtcNow.ToString("O", CultureInfo.InvariantCulture);
        foreach (var key in Changed(taken, previous))
        {
            if (DynamicConfigurationSettings.IsLive(key))
            {
                Log.Applied(_logger, key);
            }
            else
            {
                lock (_lock)
                {
                    _pendingRestart[key] = now;
                }

                Log.NeedsRestart(_logger, key);
            }
        }
    }

    public void ReloadFailed(Exception e) => Log.ReloadFailed(_logger, e.Message);

    private static List<string> Changed(IReadOnlyDictionary<string, string?> candidate, IReadOnlyDictionary<string, string?> current)
    {
        var changed = new List<string>();
        foreach (var (key, value) in candidate)
        {
            if (!current.TryGetValue(key, out var old) || !string.Equals(old, value, StringComparison.Ordinal))
            {
                changed.Add(key);
            }
        }

        foreach (var key in current.Keys)
        {
            if (!candidate.ContainsKey(key))
            {
                changed.Add(key);
            }
        }

        return changed;
    }

    /// <summary>Every validator of every validated options class against the configuration as it would be.</summary>
    internal List<string> Validate(DynamicConfigurationProvider provider, IReadOnlyDictionary<string, string?> candidate)
    {
        var layers = new List<IConfigurationProvider>();
        foreach (var layer in _root.Providers)
        {
            layers.Add(ReferenceEquals(layer, provider)
                ? new MemoryConfigurationProvider(new MemoryConfigurationSource { InitialData = candidate })
                : new ReadOnlyLayer(layer));
        }

        using var shadow = new ConfigurationRoot(layers);
        var problems = new List<string>();
        foreach (var options in _options)
        {
            options.Validate(_services, shadow, problems);
        }

        return problems;
    }

    /// <summary>Another layer seen without loading it again or listening to it (the shadow is thrown away after one check).</summary>
    private sealed class ReadOnlyLayer(IConfigurationProvider inner) : IConfigurationProvider
    {
        private static readonly IChangeToken Never = new CancellationChangeToken(CancellationToken.None);

        public bool TryGet(string key, out string? value) => inner.TryGet(key, out value);

        public void Set(string key, string? value) => throw new NotSupportedException();

        public IChangeToken GetReloadToken() => Never;

        public void Load()
        {
        }

        public IEnumerable<string> GetChildKeys(IEnumerable<string> earlierKeys, string? parentPath) => inner.GetChildKeys(earlierKeys, parentPath);
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7100, Level = LogLevel.Warning, Message = "Configuration change refused, previous values kept: {Problem}")]
        public static partial void Refused(ILogger logger, string problem);

        [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Configuration key {Key} changed; applied")]
        public static partial void Applied(ILogger logger, string key);

        [LoggerMessage(EventId = 7102, Level = LogLevel.Warning, Message = "Configuration key {Key} changed; it is read at start only and takes effect after a restart")]
        public static partial void NeedsRestart(ILogger logger, string key);

        [LoggerMessage(EventId = 7103, Level = LogLevel.Warning, Message = "etcd watch on {Endpoint} failed ({Reason}); the last values read stay in force, retrying")]
        public static partial void EtcdWatchFailed(ILogger logger, string endpoint, string reason);

        [LoggerMessage(EventId = 7105, Level = LogLevel.Debug, Message = "Section {Section} is validated at start only: bound alone it does not validate ({Problem})")]
        public static partial void NotShadowValidated(ILogger logger, string section, string problem);

        [LoggerMessage(EventId = 7104, Level = LogLevel.Error, Message = "A configuration consumer failed on an accepted change: {Reason}")]
        public static partial void ReloadFailed(ILogger logger, string reason);
    }
}

/// <summary>An options class with validators and the section it binds (its <c>Section</c> constant).</summary>
internal sealed class ValidatedOptions(Type type, string section)
{
    public Type Type { get; } = type;

    public string Section { get; } = section;

    public void Validate(IServiceProvider services, IConfiguration configuration, List<string> problems)
    {
        object instance;
        try
        {
            instance = Activator.CreateInstance(Type)!;
            configuration.GetSection(Section).Bind(instance);
        }
        catch (InvalidOperationException e)
        {
            // The binder names the key and the value it could not convert.
            problems.Add($"{Section}: {e.Message}");
            return;
        }

        var validatorType = typeof(IValidateOptions<>).MakeGenericType(Type);
        var validate = validatorType.GetMethod(nameof(IValidateOptions<object>.Validate))!;
        foreach (var validator in services.GetServices(validatorType))
        {
            if (validate.Invoke(validator, [Options.DefaultName, instance]) is ValidateOptionsResult { Failed: true } result)
            {
                foreach (var failure in result.Failures ?? [result.FailureMessage])
                {
                    problems.Add(failure.Contains(Section, StringComparison.OrdinalIgnoreCase) ? failure : $"{Section}: {failure}");
                }
            }
        }
    }
}

/// <summary>The options classes found among the registrations: each that has an <see cref="IValidateOptions{TOptions}"/>
/// and a <c>public const string Section</c> (the convention every options class here follows).</summary>
internal sealed class ValidatedOptionsTypes(IReadOnlyList<ValidatedOptions> types)
{
    public IReadOnlyList<ValidatedOptions> Types { get; } = types;

    public static ValidatedOptionsTypes From(IServiceCollection services)
    {
        var found = new Dictionary<Type, ValidatedOptions>();
        foreach (var descriptor in services)
        {
            if (descriptor.ServiceType.IsGenericType && descriptor.ServiceType.GetGenericTypeDefinition() == typeof(IValidateOptions<>))
            {
                var type = descriptor.ServiceType.GetGenericArguments()[0];
                if (!found.ContainsKey(type)
                    && type.GetField("Section", BindingFlags.Public | BindingFlags.Static) is { IsLiteral: true } field
                    && field.GetRawConstantValue() is string section
                    && type.GetConstructor(Type.EmptyTypes) is not null)
                {
                    found[type] = new ValidatedOptions(type, section);
                }
            }
        }

        return new ValidatedOptionsTypes([.. found.Values]);
    }
}
