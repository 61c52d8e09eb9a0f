namespace StreamVerse.ControlPlane.Accounts;

/// <summary>Who an Argon2id run is for: sign-ins go first.</summary>
internal enum HashPriority
{
    /// <summary>A login, a re-authentication, a signed-in user's new password: someone is waiting to get in.</summary>
    SignIn,

    /// <summary>A new account: anyone can send these, as many as they like, so they yield.</summary>
    Registration,
}

/// <summary>
/// Admission to Argon2id runs, which each hold a core and m KiB for their whole duration. At most one run per core at
/// a time; what waits is bounded, so a flood is answered (503, <see cref="Argon2BusyException"/>) instead of
/// piling up requests, and sign-ins keep their latency under a registration flood:
/// <list type="bullet">
/// <item>a free slot goes to the oldest waiting sign-in before any registration;</item>
/// <item>registrations hold at most all slots but one (one on a single core), so a sign-in that arrives during a
/// flood finds a free slot or waits for at most one run;</item>
/// <item>registrations and sign-ins wait in queues of their own, each with its own limit, so a flood of either does
/// not fill the other's.</item>
/// </list>
/// </summary>
internal sealed class Argon2Gate
{
    private readonly Lock _lock = new();
    private readonly LinkedList<TaskCompletionSource> _signIns = new();
    private readonly LinkedList<TaskCompletionSource> _registrations = new();
    private readonly int _slots;
    private readonly int _registrationSlots;
    private readonly int _signInQueueLimit;
    private readonly int _registrationQueueLimit;
    private int _running;
    private int _runningRegistrations;

    public Argon2Gate(int slots, int signInQueueLimit, int registrationQueueLimit)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(slots);
        _slots = slots;
        _registrationSlots = Math.Max(1, slots - 1);
        _signInQueueLimit = signInQueueLimit;
        _registrationQueueLimit = registrationQueueLimit;
    }

    /// <summary>Waits for a slot; false at once when the priority's queue is full. A true must be followed by one <see cref="Release"/>.</summary>
    public async ValueTask<bool> EnterAsync(HashPriority priority, CancellationToken cancellationToken)
    {
        TaskCompletionSource waiter;
        LinkedListNode<TaskCompletionSource> node;
        lock (_lock)
        {
            var queue = priority == HashPriority.SignIn ? _signIns : _registrations;
            if (CanStart(priority) && queue.Count == 0)
            {
                Start(priority);
                return true;
            }

            if (queue.Count >= (priority == HashPriority.SignIn ? _signInQueueLimit : _registrationQueueLimit))
            {
                return false;
            }

            waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            node = queue.AddLast(waiter);
        }

        // A waiter is either handed a slot by Release (taken off its queue) or cancelled (taken off here), under
        // the lock: never both, so a cancelled wait holds no slot and a granted one is always released by its owner.
        using var registration = cancellationToken.Register(() =>
        {
            lock (_lock)
            {
                if (node.List is null)
                {
                    return;
                }

                node.List.Remove(node);
            }

            waiter.TrySetCanceled(cancellationToken);
        });
        await waiter.Task.ConfigureAwait(false);
        return true;
    }

    public void Release(HashPriority priority)
    {
        lock (_lock)
        {
            _running--;
            if (priority == HashPriority.Registration)
            {
                _runningRegistrations--;
            }

            while (true)
            {
                if (_signIns.First is { } signIn && CanStart(HashPriority.SignIn))
                {
                    _signIns.RemoveFirst();
                    Start(HashPriority.SignIn);
                    signIn.Value.SetResult();
                }
                else if (_signIns.Count == 0 && _registrations.First is { } registration && CanStart(HashPriority.Registration))
                {
                    _registrations.RemoveFirst();
                    Start(HashPriority.Registration);
                    registration.Value.SetResult();
                }
                else
                {
                    break;
                }
            }
        }
    }

    /// <summary>Runs and waiters now, for tests.</summary>
    internal (int Running, int SignInsWaiting, int RegistrationsWaiting) State
    {
        get
        {
            lock (_lock)
            {
                return (_running, _signIns.Count, _registrations.Count);
            }
        }
    }

    private bool CanStart(HashPriority priority) =>
        _running < _slots && (priority == HashPriority.SignIn || (_runningRegistrations < _registrationSlots && _signIns.Count == 0));

    private void Start(HashPriority priority)
    {
        _running++;
        if (priority == HashPriority.Registration)
        {
            _runningRegistrations++;
        }
    }
}

/// <summary>The Argon2id queue of the request's kind is full: answer 503 with a Retry-After.</summary>
internal sealed class Argon2BusyException() : Exception("Too many password checks are waiting; try again shortly.");
