namespace CurpStore.GeoSim;

/// <summary>The command line is wrong; the message says which flag and why, and is shown to the user as is.</summary>
public sealed class SimOptionsException(string message) : Exception(message);
