using System.Numerics;

namespace CurpStore.GeoSim;

/// <summary>
/// The simulator's only source of randomness: xoshiro256** seeded through splitmix64.
/// </summary>
/// <remarks>
/// <para>
/// A failing run is only useful if its seed replays it exactly, on any machine and any .NET
/// version. <see cref="System.Random"/> does not promise a stable sequence across releases, so
/// the generator is written out here (Blackman and Vigna's reference algorithm) and uses only
/// integer operations and the basic IEEE double operations (+, -, *, /), which are exact
/// and identical everywhere.
/// </para>
/// <para>
/// Not thread-safe, on purpose: the simulator runs on one thread, and each component that
/// needs its own stream takes one with <see cref="Fork"/>.
/// </para>
/// </remarks>
public sealed class SimRandom
{
    private const double Ln2 = 0.6931471805599453;
    private const double Sqrt2 = 1.4142135623730951;
    private const double InverseTwoPow53 = 1.0 / (1UL << 53);

    private ulong _s0;
    private ulong _s1;
    private ulong _s2;
    private ulong _s3;

    /// <summary>Creates a generator whose whole sequence is fixed by <paramref name="seed"/>.</summary>
    /// <remarks>
    /// splitmix64 spreads the seed over the 256-bit state, so small or similar seeds (0, 1, 2…)
    /// still give unrelated sequences and the state is never all zero (which xoshiro cannot leave).
    /// </remarks>
    public SimRandom(ulong seed)
    {
        Seed = seed;
        ulong x = seed;
        _s0 = SplitMix64(ref x);
        _s1 = SplitMix64(ref x);
        _s2 = SplitMix64(ref x);
        _s3 = SplitMix64(ref x);
    }

    /// <summary>The seed this generator was created from (printed with every run so it can be replayed).</summary>
    public ulong Seed { get; }

    /// <summary>Next 64 uniformly distributed bits (xoshiro256**).</summary>
    public ulong NextUInt64()
    {
        ulong result = BitOperations.RotateLeft(_s1 * 5, 7) * 9;
        ulong t = _s1 << 17;
        _s2 ^= _s0;
        _s3 ^= _s1;
        _s1 ^= _s2;
        _s0 ^= _s3;
        _s2 ^= t;
        _s3 = BitOperations.RotateLeft(_s3, 45);
        return result;
    }

    /// <summary>Uniform double in [0, 1), with 53 random bits (every value is a multiple of 2^-53).</summary>
    public double NextDouble() => (NextUInt64() >> 11) * InverseTwoPow53;

    /// <summary>Uniform integer in [0, <paramref name="maxExclusive"/>), without modulo bias.</summary>
    /// <remarks>Lemire's multiply-and-reject method: unbiased, and almost always a single draw.</remarks>
    public int Next(int maxExclusive)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxExclusive);
        return (int)Next64((ulong)maxExclusive);
    }

    /// <summary>Uniform integer in [<paramref name="minInclusive"/>, <paramref name="maxExclusive"/>).</summary>
    public int Next(int minInclusive, int maxExclusive)
    {
        if (maxExclusive <= minInclusive)
        {
            throw new ArgumentOutOfRangeException(
                nameof(maxExclusive), maxExclusive, $"must be greater than minInclusive ({minInclusive})");
        }

        return (int)(minInclusive + (long)Next64((ulong)((long)maxExclusive - minInclusive)));
    }

    /// <summary>True with probability <paramref name="probability"/> (in [0, 1]).</summary>
    /// <remarks>
    /// Always consumes exactly one draw, even for 0 or 1, so that turning a fault probability
    /// on or off does not shift every later value of the stream by a different amount.
    /// </remarks>
    public bool Chance(double probability)
    {
        if (!(probability >= 0.0 && probability <= 1.0))
        {
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "must be in [0, 1]");
        }

        return NextDouble() < probability;
    }

    /// <summary>Exponentially distributed value with the given mean (0 gives 0).</summary>
    /// <remarks>
    /// Models the long tail of wide-area delays. Uses inversion with <see cref="PortableLog"/>
    /// rather than <see cref="Math.Log(double)"/>: the latter comes from the platform's C
    /// library and may differ in the last bit between machines, which would change a rounded
    /// delivery time and so the trace hash of a replayed seed. Always consumes one draw.
    /// </remarks>
    public double Exponential(double mean)
    {
        if (!(mean >= 0.0) || double.IsInfinity(mean))
        {
            throw new ArgumentOutOfRangeException(nameof(mean), mean, "must be finite and >= 0");
        }

        double u = NextDouble();
        if (mean == 0.0)
        {
            return 0.0;
        }

        // 1 - u is in [2^-53, 1] and computed exactly, so the logarithm is finite.
        return -mean * PortableLog(1.0 - u);
    }

    /// <summary>
    /// An independent generator for one component (a node, a client, the network…), numbered
    /// by <paramref name="stream"/>.
    /// </summary>
    /// <remarks>
    /// The child depends only on this generator's <see cref="Seed"/> and <paramref name="stream"/>,
    /// not on how many values were drawn so far: adding a draw in one component never shifts the
    /// randomness of another, so a seed keeps replaying the same scenario as the code grows.
    /// Forks of forks are distinct from forks of the root because the child's seed is mixed again.
    /// </remarks>
    public SimRandom Fork(ulong stream)
    {
        ulong streamMix = Mix64(stream ^ 0xD1B54A32D192ED03UL);
        return new SimRandom(Mix64(Seed ^ streamMix) ^ 0x5851F42D4C957F2DUL);
    }

    /// <summary>
    /// Natural logarithm of a positive finite value using only +, -, *, / so that it is bit-identical
    /// on every machine. Accurate to a few ulps, which is far below the simulator's 1 µs time grain.
    /// </summary>
    internal static double PortableLog(double x)
    {
        if (!(x > 0.0) || double.IsInfinity(x))
        {
            throw new ArgumentOutOfRangeException(nameof(x), x, "must be positive and finite");
        }

        int exponentAdjust = 0;
        long bits = BitConverter.DoubleToInt64Bits(x);
        if (((bits >> 52) & 0x7FF) == 0)
        {
            // Subnormal: scale by 2^54 (exact) to get a normal mantissa.
            x *= 18014398509481984.0;
            exponentAdjust = -54;
            bits = BitConverter.DoubleToInt64Bits(x);
        }

        int exponent = (int)((bits >> 52) & 0x7FF) - 1023 + exponentAdjust;
        double mantissa = BitConverter.Int64BitsToDouble((bits & 0x000FFFFFFFFFFFFFL) | 0x3FF0000000000000L);
        if (mantissa > Sqrt2)
        {
            mantissa *= 0.5;
            exponent++;
        }

        // ln(m) = 2 atanh(s) = 2 (s + s^3/3 + s^5/5 + ...), s = (m-1)/(m+1), |s| <= 0.172.
        double s = (mantissa - 1.0) / (mantissa + 1.0);
        double s2 = s * s;
        double series = 0.0;
        for (int k = 14; k >= 1; k--)
        {
            series = (series + 1.0 / (2 * k + 1)) * s2;
        }

        double lnMantissa = 2.0 * s * (1.0 + series);
        return exponent * Ln2 + lnMantissa;
    }

    /// <summary>Uniform value in [0, range) for range &gt; 0 (Lemire: multiply, reject the biased low slice).</summary>
    private ulong Next64(ulong range)
    {
        ulong high = Math.BigMul(NextUInt64(), range, out ulong low);
        if (low < range)
        {
            ulong threshold = (0UL - range) % range;
            while (low < threshold)
            {
                high = Math.BigMul(NextUInt64(), range, out low);
            }
        }

        return high;
    }

    private static ulong SplitMix64(ref ulong state)
    {
        state += 0x9E3779B97F4A7C15UL;
        return Mix64(state);
    }

    private static ulong Mix64(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
