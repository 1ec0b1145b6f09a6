namespace CurpStore.Curp;

/// <summary>
/// Quorum sizes for a cluster of <c>n</c> voting members (CURP, Park &amp; Ousterhout, NSDI '19, §3):
/// f = (n-1)/2 faults tolerated, quorum q = f+1, super-quorum sq = f + ceil(f/2) + 1,
/// recovery quorum rq = ceil(f/2) + 1.
/// </summary>
/// <remarks>
/// Why these numbers: a fast-path command is held by sq members. After the leader fails, any quorum of the
/// n-1 survivors overlaps the sq-1 surviving witnesses in at least q + (sq-1) - (n-1) = rq members, and two
/// conflicting commands cannot both reach rq within one quorum (2·rq &gt; q), so recovery is unambiguous.
/// </remarks>
public readonly record struct Quorum(int Members)
{
    public int FaultsTolerated => Members <= 0 ? 0 : (Members - 1) / 2;

    public int Majority => FaultsTolerated + 1;

    public int SuperQuorum => Math.Min(Members, FaultsTolerated + CeilHalf(FaultsTolerated) + 1);

    public int Recovery => CeilHalf(FaultsTolerated) + 1;

    private static int CeilHalf(int value) => (value + 1) / 2;
}
