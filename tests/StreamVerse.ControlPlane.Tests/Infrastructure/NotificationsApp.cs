namespace StreamVerse.ControlPlane.Tests.Infrastructure;

/// <summary>
/// The daemon with fast notification workers: small fan-out batches (so a fan-out takes several, and a test can stop it
/// between two), quick polling, an hour's digest period (tests age the rows), and plain-http push endpoints allowed on loopback only.
/// </summary>
public abstract class NotificationsApp : ControlPlaneApp
{
    public const int FanoutBatch = 5;

    protected override IEnumerable<string> ExtraArgs =>
    [
        "--StreamVerse:ControlPlane:Outbox:PollInterval", "00:00:00.05",
        "--StreamVerse:ControlPlane:Notifications:FanoutBatchSize", FanoutBatch.ToString(System.Globalization.CultureInfo.InvariantCulture),
        "--StreamVerse:ControlPlane:Notifications:PollInterval", "00:00:00.1",
        "--StreamVerse:ControlPlane:Notifications:DigestPeriod", "01:00:00",
        "--StreamVerse:ControlPlane:Notifications:PushInsecureHosts:0", "127.0.0.1",
        "--StreamVerse:ControlPlane:Notifications:VapidSubject", "mailto:ops@test.invalid",
    ];
}

public sealed class NotificationsSqliteApp : NotificationsApp
{
    public override string Provider => "sqlite";
}

public sealed class NotificationsPostgresApp : NotificationsApp
{
    public override string Provider => "postgres";
}

[CollectionDefinition("notifications-sqlite")]
public sealed class NotificationsSqliteCollection : ICollectionFixture<NotificationsSqliteApp>;

[CollectionDefinition("notifications-postgres")]
public sealed class NotificationsPostgresCollection : ICollectionFixture<NotificationsPostgresApp>;
