using CurpStore.Store;

namespace CurpStore.Server.Auth;

/// <summary>Hands out tokens for authentications the store recorded, and tells who a token stands for.</summary>
public interface IAuthTokenProvider
{
    /// <summary>A simple-token prefix for the next authentication, or "" when the token is made afterwards (JWT).</summary>
    string NewTokenPrefix();

    /// <summary>Called before proposing an authentication; throws when no token could be kept.</summary>
    void EnsureRoom();

    /// <summary>The token for an authentication the store accepted.</summary>
    string Assign(AuthenticateResponse accepted);

    /// <summary>Who <paramref name="token"/> stands for, with the auth revision requests are checked at; null when it
    /// is not a valid token (unknown, expired, forged). <paramref name="currentAuthRevision"/> is the member's.</summary>
    ValueTask<RequestAuth?> IdentifyAsync(string token, long currentAuthRevision, CancellationToken cancellationToken);
}
