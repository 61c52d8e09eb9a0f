using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using StreamVerse.ControlPlane.Operations;

namespace StreamVerse.Origin.Configuration;

/// <summary>
/// The admin view of the configuration: each key's value in force and the layer it comes from (the last one that sets
/// it, as <see cref="ConfigurationRoot"/> resolves it), the defaults of the validated option classes that nothing
/// overrides, and whether a change needs a restart. Secrets are redacted by key and by value (<see cref="IsSecret"/>).
/// Only the daemon's own sections are listed: the environment layer also holds the process's unrelated variables.
/// </summary>
internal sealed partial class EffectiveConfigurationView(IConfiguration configuration, ValidatedOptionsTypes options, ConfigurationGuard guard) : IConfigurationView
{
    public const string Redacted = "[redacted]";
    private static readonly string[] Sections = ["StreamVerse", "Logging", "Kestrel"];

    public ConfigurationSnapshot Snapshot()
    {
        // Read first: a key listed as pending was in the configuration before the entries below are read.
        var pending = guard.PendingRestart.Keys.Order(StringComparer.OrdinalIgnoreCase).ToList();
        var root = (IConfigurationRoot)configuration;
        var providers = root.Providers.ToList();
        var entries = new SortedDictionary<string, ConfigurationEntry>(StringComparer.OrdinalIgnoreCase);
        var dynamicSources = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var section in Sections)
        {
            foreach (var (key, value) in root.GetSection(section).AsEnumerable())
            {
                if (value is null)
                {
                    continue;
                }

                var source = "default";
                for (var i = providers.Count - 1; i >= 0; i--)
                {
                    if (providers[i].TryGet(key, out _))
                    {
                        source = SourceOf(providers[i], key);
                        break;
                    }
                }

                entries[key] = Entry(key, value, source);
            }
        }

        foreach (var provider in providers.OfType<DynamicConfigurationProvider>())
        {
            if (provider.Settings.File is { } file)
            {
                dynamicSources[DynamicConfigurationProvider.FileSource] = file;
            }

            if (provider.Etcd is { } etcd)
            {
                dynamicSources[DynamicConfigurationProvider.EtcdSource] = etcd.Endpoint + " " + etcd.Prefix;
            }
        }

        foreach (var validated in options.Types)
        {
            AddDefaults(validated.Type, validated.Section, entries);
        }

        return new ConfigurationSnapshot([.. entries.Values], pending, dynamicSources);
    }

    private static string SourceOf(IConfigurationProvider provider, string key) => provider switch
    {
        DynamicConfigurationProvider dynamic => dynamic.Sources.TryGetValue(key, out var s) ? s : DynamicConfigurationProvider.FileSource,
        FlagsConfigurationProvider => "command line",
        EnvironmentVariablesConfigurationProvider => "environment",
        JsonConfigurationProvider json => Path.GetFileName(json.Source.Path) ?? "file",
        _ => "default",
    };

    private static ConfigurationEntry Entry(string key, string? value, string source)
    {
        var secret = IsSecret(key, value);
        return new ConfigurationEntry(key, secret ? Redacted : value, source, secret, !DynamicConfigurationSettings.IsLive(key));
    }

    /// <summary>A property's initial value, for the scalar keys nothing sets (a class or dictionary is listed only when set).</summary>
    private static void AddDefaults(Type type, string section, SortedDictionary<string, ConfigurationEntry> entries)
    {
        object instance;
        try
        {
            instance = Activator.CreateInstance(type)!;
        }
        catch (TargetInvocationException)
        {
            return;
        }

        foreach (var property in type.GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetIndexParameters().Length > 0 || property.SetMethod is null)
            {
                continue;
            }

            var key = section + ":" + property.Name;
            if (entries.ContainsKey(key) || entries.Keys.Any(k => k.StartsWith(key + ":", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }

            var value = property.GetValue(instance) switch
            {
                null => null,
                string s => s,
                bool b => b ? "true" : "false",
                TimeSpan t => t.ToString("c", CultureInfo.InvariantCulture),
                Enum e => e.ToString(),
                IFormattable f when property.PropertyType.IsPrimitive || property.PropertyType == typeof(decimal) || Nullable.GetUnderlyingType(property.PropertyType)?.IsPrimitive == true
                    => f.ToString(null, CultureInfo.InvariantCulture),
                string[] array => string.Join(",", array),
                _ => null,
            };
            if (value is not null)
            {
                entries[key] = Entry(key, value, "default");
            }
        }
    }

    /// <summary>
    /// A secret by name: any segment of the key that says secret, password, token, key, credential, signing, private,
    /// connection string; every configured stream key (<c>StreamVerse:Streams:NAME</c>: the value is the publish key).
    /// By value: a <c>password=</c>/<c>pwd=</c> pair (connection strings, Redis options) or a URL with user information.
    /// Over-redacting a harmless key costs nothing; showing one secret is the failure this guards against.
    /// </summary>
    internal static bool IsSecret(string key, string? value)
    {
        if (key.StartsWith("StreamVerse:Streams:", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }

        foreach (var segment in key.Split(':'))
        {
            if (SecretName().IsMatch(segment))
            {
                return true;
            }
        }

        return value is not null && SecretValue().IsMatch(value);
    }

    [GeneratedRegex("secret|passw|pwd|token|key|credential|signing|private|connectionstring|apikey|auth", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretName();

    [GeneratedRegex(@"(password|pwd)\s*=|://[^/@\s]+:[^/@\s]+@", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretValue();
}
