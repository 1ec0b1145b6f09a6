namespace CurpStore.Rig;

/// <summary>The rig cannot do what it was asked (a missing tool, no root, a command that failed, an unknown name);
/// the message says what and how to fix it.</summary>
public sealed class RigException(string message, Exception? inner = null) : Exception(message, inner);
