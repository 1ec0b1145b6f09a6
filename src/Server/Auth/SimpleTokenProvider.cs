using System.Globalization;
using System.Security.Cryptography;
using CurpStore.Curp;
using CurpStore.Rpc;
using CurpStore.Server.Hosting;
using CurpStore.Store;

namespace CurpStore.Server.Auth;

/// <summary>
/// etcd's simple tokens: 16 random letters + "." + the log index of the authentication. Like etcd, every member that
/// applies the authentication keeps the token in memory (so it is valid on every member that applied it) and forgets
/// it after <see cref="AuthTokenOptions.SimpleTokenTtlSeconds"/> without use on that member, when the user is deleted
/// or its password changes, and when auth is disabled. A restarted member knows only the tokens of authentications it
/// replays from its log, the others' clients authenticate again ("etcdserver: invalid auth token"), as after an etcd
/// restart. A token whose index this member has not applied yet waits
/// for it (at most <see cref="MaxIndexWait"/>), as etcd's does. Fed by the host's loop after each apply.
/// </summary>
public sealed class SimpleTokenProvider : IAuthTokenProvider, IAppliedStateObserver
{
    public const int PrefixLength = 16;

    /// <summary>Tokens kept at most; beyond, after forgetting expired ones, authentication answers "too many requests"
    /// on the member asked, and other members skip the token (its user authenticates again there).</summary>
    public const int DefaultMaxTokens = 100_000;

    /// <summary>Requests waiting at most for the authentication their token names to be applied here.</summary>
    public const int MaxIndexWaiters = 10_000;

    public static readonly TimeSpan MaxIndexWait = TimeSpan.FromSeconds(5);

    private const string Letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

    private readonly object gate = new();
    private readonly Dictionary<string, (string User, long ExpiresAtMs)> tokens = new(StringComparer.Ordinal);
    private readonly SortedDictionary<ulong, List<TaskCompletionSource>> indexWaiters = [];
    private readonly EtcdStateMachine machine;
    private readonly TimeProvider time;
    private readonly long ttlMs;
    private readonly int maxTokens;
    private int waiterCount;
    private ulong appliedIndex;

    public SimpleTokenProvider(EtcdStateMachine machine, int ttlSeconds, TimeProvider? time = null, int maxTokens = DefaultMaxTokens)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(ttlSeconds, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxTokens, 1);
        this.machine = machine;
        this.time = time ?? TimeProvider.System;
        this.maxTokens = maxTokens;
        ttlMs = ttlSeconds * 1000L;
        appliedIndex = machine.AppliedIndex;
    }

    /// <summary>Tokens kept now (expired ones included until they are looked up or swept).</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return tokens.Count;
            }
        }
    }

    public string NewTokenPrefix() => RandomNumberGenerator.GetString(Letters, PrefixLength);

    public void EnsureRoom()
    {
        lock (gate)
        {
            if (!HasRoom())
            {
                throw EtcdStatuses.TooManyRequests.ToException();
            }
        }
    }

    /// <summary>Registered already when this member applied it, unless that has not happened yet (the answer may come
    /// from the fast path first).</summary>
    public string Assign(AuthenticateResponse accepted)
    {
        ArgumentNullException.ThrowIfNull(accepted);
        lock (gate)
        {
            Register(accepted.Token, accepted.User);
        }
        return accepted.Token;
    }

    public async ValueTask<RequestAuth?> IdentifyAsync(string token, long currentAuthRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(token);
        var parts = token.Split('.');
        if (parts.Length != 2 || !ulong.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var index))
        {
            return null;
        }
        if (!await WaitForAppliedAsync(index, cancellationToken).ConfigureAwait(false))
        {
            return null;
        }
        lock (gate)
        {
            if (!tokens.TryGetValue(token, out var entry))
            {
                return null;
            }
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            if (entry.ExpiresAtMs <= now)
            {
                tokens.Remove(token);
                return null;
            }
            tokens[token] = (entry.User, now + ttlMs); // etcd: every use restarts the token's time to live
            // etcd: a simple token carries no revision; requests are checked at the store's revision now.
            return new RequestAuth(entry.User, currentAuthRevision);
        }
    }

    public void OnApplied(ICommand command, ulong index)
    {
        lock (gate)
        {
            appliedIndex = index;
            switch ((command as EtcdCommand)?.Request, machine.LastAppliedResult)
            {
                case (AuthenticateRequest, AuthenticateResponse { Token.Length: > 0 } accepted):
                    Register(accepted.Token, accepted.User);
                    break;
                case (UserDeleteRequest delete, AuthChangeResponse):
                    ForgetUser(delete.Name);
                    break;
                case (UserChangePasswordRequest change, AuthChangeResponse):
                    ForgetUser(change.Name);
                    break;
                case (AuthDisableRequest, AuthChangeResponse):
                    tokens.Clear();
                    break;
            }
            ReleaseWaiters();
        }
    }

    /// <summary>A snapshot replaced the store: keep only the tokens of users it still has, none if auth is off.</summary>
    public void OnRestored()
    {
        lock (gate)
        {
            appliedIndex = machine.AppliedIndex;
            var auth = machine.Auth;
            foreach (var (token, entry) in tokens.ToList())
            {
                if (!auth.Enabled || auth.FindUser(entry.User) is null)
                {
                    tokens.Remove(token);
                }
            }
            ReleaseWaiters();
        }
    }

    private void Register(string token, string user)
    {
        if (tokens.ContainsKey(token) || HasRoom())
        {
            tokens[token] = (user, time.GetUtcNow().ToUnixTimeMilliseconds() + ttlMs);
        }
    }

    /// <summary>Whether one more token fits, after forgetting the expired ones if needed.</summary>
    private bool HasRoom()
    {
        if (tokens.Count < maxTokens)
        {
            return true;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var (token, entry) in tokens.ToList())
        {
            if (entry.ExpiresAtMs <= now)
            {
                tokens.Remove(token);
            }
        }
        return tokens.Count < maxTokens;
    }

    private void ForgetUser(string user)
    {
        foreach (var (token, entry) in tokens.ToList())
        {
            if (entry.User == user)
            {
                tokens.Remove(token);
            }
        }
    }

    private async Task<bool> WaitForAppliedAsync(ulong index, CancellationToken cancellationToken)
    {
        var waiter = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (gate)
        {
            if (index <= appliedIndex)
            {
                return true;
            }
            if (waiterCount >= MaxIndexWaiters)
            {
                throw EtcdStatuses.TooManyRequests.ToException();
            }
            if (!indexWaiters.TryGetValue(index, out var waiting))
            {
                waiting = [];
                indexWaiters[index] = waiting;
            }
            waiting.Add(waiter);
            waiterCount++;
        }
        try
        {
            await waiter.Task.WaitAsync(MaxIndexWait, cancellationToken).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
        finally
        {
            if (!waiter.Task.IsCompleted)
            {
                ForgetWaiter(index, waiter); // timed out or cancelled: it must not stay in line
            }
        }
    }

    private void ForgetWaiter(ulong index, TaskCompletionSource waiter)
    {
        lock (gate)
        {
            if (indexWaiters.TryGetValue(index, out var waiting) && waiting.Remove(waiter))
            {
                waiterCount--;
                if (waiting.Count == 0)
                {
                    indexWaiters.Remove(index);
                }
            }
        }
    }

    private void ReleaseWaiters()
    {
        while (indexWaiters.Count > 0)
        {
            var (index, waiting) = indexWaiters.First();
            if (index > appliedIndex)
            {
                return;
            }
            indexWaiters.Remove(index);
            waiterCount -= waiting.Count;
            foreach (var waiter in waiting)
            {
                waiter.TrySetResult();
            }
        }
    }
}
