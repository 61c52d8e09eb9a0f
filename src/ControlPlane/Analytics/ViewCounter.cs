namespace StreamVerse.ControlPlane.Analytics;

/// <summary>
/// The view rule, PeerTube's: a view counts once a viewer has played <c>ViewSeconds</c> (10 s) of a video, or half of a video
/// shorter than twice that, and once per viewer and video per hour (the hour starts at the pair's first played range; a
/// replay within it adds watch time but no view). What counts is played time (the heartbeats' ranges), not the position:
/// a seek to the end plays nothing. Flood rule: a pair first seen from an address that already started more than
/// <c>MaxStartsPerMinute</c> pairs this minute never counts (a forged flood rotates session ids, not addresses).
/// Single-threaded (the writer's); state is in memory and forgets pairs idle for an hour, so a restart may count a replay
/// within the hour again, and two daemons that get the same viewer's beacons count separately.
/// </summary>
internal sealed class ViewCounter(int viewSeconds, int maxStartsPerMinute)
{
    public const long WindowMs = 3_600_000;

    private readonly Dictionary<(string Viewer, string VideoId), Pair> _pairs = [];
    private readonly Dictionary<ulong, (long Minute, int Starts)> _addresses = [];
    private long _lastSweep;

    private sealed class Pair
    {
        public long WindowStart;
        public long LastSeen;
        public double Played;
        public bool Counted;
        public bool Ignored;
    }

    public int Tracked => _pairs.Count;

    /// <summary>
    /// Called once per beacon before its events: opens the pair's hour when it has none (or its hour is over), which is a view
    /// start for the flood rule. False when the pair is ignored (begun during a flood from its address): the writer drops
    /// its events.
    /// </summary>
    public bool Admit(string viewer, string videoId, ulong address, long at)
    {
        Sweep(at);
        if (!_pairs.TryGetValue((viewer, videoId), out var pair) || at - pair.WindowStart >= WindowMs)
        {
            pair ??= new Pair();
            pair.WindowStart = at;
            pair.Played = 0;
            pair.Counted = false;
            pair.Ignored = Flooding(address, at);
            _pairs[(viewer, videoId)] = pair;
        }

        pair.LastSeen = at;
        return !pair.Ignored;
    }

    /// <summary>
    /// Adds <paramref name="seconds"/> played (after <see cref="Admit"/>); true when this makes a view.
    /// <paramref name="durationSeconds"/> is the video's duration when known.
    /// </summary>
    public bool Played(string viewer, string videoId, double seconds, double? durationSeconds)
    {
        if (!_pairs.TryGetValue((viewer, videoId), out var pair))
        {
            return false;
        }

        pair.Played += seconds;
        if (pair.Counted || pair.Ignored || pair.Played < Threshold(durationSeconds))
        {
            return false;
        }

        pair.Counted = true;
        return true;
    }

    public double Threshold(double? durationSeconds) =>
        durationSeconds is > 0 and var d && d < 2.0 * viewSeconds ? d / 2 : viewSeconds;

    private bool Flooding(ulong address, long at)
    {
        var minute = at / 60_000;
        var (m, starts) = _addresses.GetValueOrDefault(address);
        starts = m == minute ? starts + 1 : 1;
        _addresses[address] = (minute, starts);
        return starts > maxStartsPerMinute;
    }

    private void Sweep(long now)
    {
        if (now - _lastSweep < 60_000)
        {
            return;
        }

        _lastSweep = now;
        foreach (var (key, pair) in _pairs)
        {
            if (now - pair.LastSeen >= WindowMs && now - pair.WindowStart >= WindowMs)
            {
                _pairs.Remove(key);
            }
        }

        foreach (var (key, a) in _addresses)
        {
            if (a.Minute < now / 60_000)
            {
                _addresses.Remove(key);
            }
        }
    }
}
