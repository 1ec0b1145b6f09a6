namespace CurpStore.GeoSim;

/// <summary>
/// A simulated wide-area network between endpoints placed in regions: per-link delay from the
/// <see cref="Topology"/> plus an exponential jitter tail, and run-time faults (loss,
/// duplication, reordering, one-way and symmetric partitions, endpoints going down).
/// </summary>
/// <typeparam name="TMessage">What travels; the network never looks inside it.</typeparam>
/// <remarks>
/// <para>
/// All randomness comes from the <see cref="SimRandom"/> given at construction and every delivery
/// is an <see cref="EventScheduler"/> event, so a seed fixes the whole message schedule. Each
/// delivery is also folded into <see cref="Trace"/> (time, from, to, description) so two runs can
/// be compared by one hash.
/// </para>
/// <para>
/// With reordering off, each directed link is FIFO like a TCP connection: a message never arrives
/// before one sent earlier on the same link (its delivery time is raised to the link's last one;
/// equal times keep send order through the scheduler's tie-break). With reordering on, jitter alone
/// decides, so messages sent close together can overtake each other, as with UDP or several
/// connections.
/// </para>
/// <para>
/// Faults are checked both when a message is sent and when it arrives. A message in flight is
/// dropped if, meanwhile, its link was blocked or either endpoint went down — even if the endpoint
/// is back up by then, because a crash tears down connections and their buffered bytes. Dropping is
/// always a behaviour the protocol must survive; delivering stale traffic from a previous
/// incarnation is not something a real transport would do.
/// </para>
/// </remarks>
public sealed class SimNetwork<TMessage>
{
    private readonly EventScheduler _scheduler;
    private readonly Topology _topology;
    private readonly SimRandom _random;
    private readonly Func<TMessage, string> _describe;
    private readonly Dictionary<ulong, Endpoint> _endpoints = [];
    private readonly HashSet<(ulong From, ulong To)> _blocked = [];
    private readonly Dictionary<(ulong From, ulong To), long> _lastDeliveryMicros = [];
    private readonly long[] _droppedByReason = new long[Enum.GetValues<DropReason>().Length];

    private double _lossProbability;
    private double _duplicationProbability;
    private double _jitterFactor = 1.0;

    /// <summary>Creates a network with no endpoints and no faults.</summary>
    /// <param name="scheduler">Clock and event queue deliveries are scheduled on.</param>
    /// <param name="topology">Regions and delays.</param>
    /// <param name="random">This network's own stream (take one with <see cref="SimRandom.Fork"/>).</param>
    /// <param name="describe">Short, deterministic text for a message, hashed into <see cref="Trace"/>.</param>
    /// <param name="trace">Hash to feed; a new one when null (pass a shared one to interleave other events).</param>
    public SimNetwork(
        EventScheduler scheduler,
        Topology topology,
        SimRandom random,
        Func<TMessage, string> describe,
        TraceHash? trace = null)
    {
        _scheduler = scheduler ?? throw new ArgumentNullException(nameof(scheduler));
        _topology = topology ?? throw new ArgumentNullException(nameof(topology));
        _random = random ?? throw new ArgumentNullException(nameof(random));
        _describe = describe ?? throw new ArgumentNullException(nameof(describe));
        Trace = trace ?? new TraceHash();
    }

    /// <summary>Hash of every delivery so far.</summary>
    public TraceHash Trace { get; }

    /// <summary>Probability in [0, 1] that a sent message is lost.</summary>
    public double LossProbability
    {
        get => _lossProbability;
        set => _lossProbability = RequireProbability(value, nameof(LossProbability));
    }

    /// <summary>Probability in [0, 1] that a message that is not lost is delivered a second time.</summary>
    public double DuplicationProbability
    {
        get => _duplicationProbability;
        set => _duplicationProbability = RequireProbability(value, nameof(DuplicationProbability));
    }

    /// <summary>When false (the default) every directed link delivers in send order.</summary>
    public bool ReorderingEnabled { get; set; }

    /// <summary>
    /// Multiplies the topology's jitter mean (default 1; 0 gives exact minimum delays, which makes
    /// latency tests exact; larger values model a congested WAN).
    /// </summary>
    public double JitterFactor
    {
        get => _jitterFactor;
        set
        {
            if (!double.IsFinite(value) || value < 0)
            {
                throw new ArgumentOutOfRangeException(nameof(JitterFactor), value, "must be finite and >= 0");
            }

            _jitterFactor = value;
        }
    }

    /// <summary>Messages passed to <see cref="Send"/>.</summary>
    public long Sent { get; private set; }

    /// <summary>Deliveries made (a duplicated message counts twice).</summary>
    public long Delivered { get; private set; }

    /// <summary>Extra copies scheduled by duplication.</summary>
    public long Duplicated { get; private set; }

    /// <summary>Copies scheduled but not yet delivered or dropped.</summary>
    public long InFlight { get; private set; }

    /// <summary>All drops, whatever the reason.</summary>
    public long Dropped => _droppedByReason.Sum();

    /// <summary>Drops for one reason.</summary>
    public long DroppedBy(DropReason reason) => _droppedByReason[(int)reason];

    /// <summary>Drop counts by reason (every reason present, zero included, in enum order).</summary>
    public IReadOnlyDictionary<DropReason, long> DroppedByReason =>
        Enum.GetValues<DropReason>().ToDictionary(r => r, r => _droppedByReason[(int)r]);

    /// <summary>Adds an endpoint in <paramref name="region"/> that receives messages through <paramref name="deliver"/>.</summary>
    /// <exception cref="ArgumentException">The id is taken or the region is unknown.</exception>
    public void Register(ulong id, string region, Action<TMessage> deliver)
    {
        ArgumentNullException.ThrowIfNull(deliver);
        int regionIndex = _topology.IndexOf(region);
        if (!_endpoints.TryAdd(id, new Endpoint(region, regionIndex, deliver)))
        {
            throw new ArgumentException($"endpoint {id} is already registered", nameof(id));
        }
    }

    /// <summary>Whether <paramref name="id"/> has been registered.</summary>
    public bool IsRegistered(ulong id) => _endpoints.ContainsKey(id);

    /// <summary>Region of a registered endpoint.</summary>
    public string RegionOf(ulong id) => Get(id).Region;

    /// <summary>
    /// Marks an endpoint down (crashed, unreachable) or back up. While down it neither sends nor
    /// receives; going down also kills everything in flight to or from it.
    /// </summary>
    public void SetDown(ulong id, bool down)
    {
        Endpoint endpoint = Get(id);
        if (down && !endpoint.Down)
        {
            endpoint.Incarnation++;
        }

        endpoint.Down = down;
    }

    /// <summary>Whether an endpoint is down.</summary>
    public bool IsDown(ulong id) => Get(id).Down;

    /// <summary>Blocks the directed link <paramref name="from"/> → <paramref name="to"/> (the reverse still works).</summary>
    public void Block(ulong from, ulong to)
    {
        Get(from);
        Get(to);
        _blocked.Add((from, to));
    }

    /// <summary>Unblocks one directed link.</summary>
    public void Unblock(ulong from, ulong to) => _blocked.Remove((from, to));

    /// <summary>Whether the directed link is blocked.</summary>
    public bool IsBlocked(ulong from, ulong to) => _blocked.Contains((from, to));

    /// <summary>Blocks both directions between every endpoint of one side and every endpoint of the other.</summary>
    public void Partition(IEnumerable<ulong> sideA, IEnumerable<ulong> sideB)
    {
        ArgumentNullException.ThrowIfNull(sideA);
        ArgumentNullException.ThrowIfNull(sideB);
        ulong[] b = [.. sideB];
        foreach (ulong a in sideA)
        {
            foreach (ulong other in b)
            {
                if (a != other)
                {
                    Block(a, other);
                    Block(other, a);
                }
            }
        }
    }

    /// <summary>Removes every block (one-way and partition). Down endpoints stay down.</summary>
    public void HealAll() => _blocked.Clear();

    /// <summary>
    /// Sends <paramref name="message"/>; it is delivered after the link's one-way delay plus jitter,
    /// unless a fault drops it. Both endpoints must be registered.
    /// </summary>
    public void Send(ulong from, ulong to, TMessage message)
    {
        Endpoint sender = Get(from);
        Endpoint receiver = Get(to);
        Sent++;

        if (sender.Down)
        {
            Drop(DropReason.SenderDown);
            return;
        }

        if (receiver.Down)
        {
            Drop(DropReason.ReceiverDown);
            return;
        }

        if (_blocked.Contains((from, to)))
        {
            Drop(DropReason.Blocked);
            return;
        }

        // Both draws happen for every message that reaches this point, so changing one
        // probability never changes how the other consumes the stream.
        bool lost = _random.Chance(_lossProbability);
        bool duplicate = _random.Chance(_duplicationProbability);
        if (lost)
        {
            Drop(DropReason.Lost);
            return;
        }

        ScheduleCopy(from, to, sender, receiver, message);
        if (duplicate)
        {
            Duplicated++;
            ScheduleCopy(from, to, sender, receiver, message);
        }
    }

    /// <summary>The delay a message would get on this link right now, before FIFO ordering (draws jitter).</summary>
    private long SampleDelayMicros(Endpoint sender, Endpoint receiver)
    {
        double ms = _topology.OneWayMs(sender.RegionIndex, receiver.RegionIndex);
        ms += _random.Exponential(_topology.JitterMeanMs * _jitterFactor);
        return SimTime.MicrosFromMs(ms);
    }

    private void ScheduleCopy(ulong from, ulong to, Endpoint sender, Endpoint receiver, TMessage message)
    {
        long at = _scheduler.Now + SampleDelayMicros(sender, receiver);
        var link = (from, to);
        _lastDeliveryMicros.TryGetValue(link, out long last);
        if (!ReorderingEnabled && at < last)
        {
            at = last;
        }

        _lastDeliveryMicros[link] = Math.Max(at, last);

        int senderIncarnation = sender.Incarnation;
        int receiverIncarnation = receiver.Incarnation;
        _scheduler.Schedule(at, () => Arrive(from, to, sender, receiver, senderIncarnation, receiverIncarnation, message));
        InFlight++;
    }

    private void Arrive(
        ulong from,
        ulong to,
        Endpoint sender,
        Endpoint receiver,
        int senderIncarnation,
        int receiverIncarnation,
        TMessage message)
    {
        InFlight--;
        if (sender.Down || receiver.Down
            || sender.Incarnation != senderIncarnation || receiver.Incarnation != receiverIncarnation)
        {
            Drop(DropReason.DownInFlight);
            return;
        }

        if (_blocked.Contains((from, to)))
        {
            Drop(DropReason.BlockedInFlight);
            return;
        }

        Delivered++;
        Trace.Add(_scheduler.Now).Add(from).Add(to).Add(_describe(message));
        receiver.Deliver(message);
    }

    private static double RequireProbability(double value, string name) =>
        value is >= 0.0 and <= 1.0 ? value : throw new ArgumentOutOfRangeException(name, value, "must be in [0, 1]");

    private void Drop(DropReason reason) => _droppedByReason[(int)reason]++;

    private Endpoint Get(ulong id) =>
        _endpoints.TryGetValue(id, out var endpoint)
            ? endpoint
            : throw new ArgumentException($"endpoint {id} is not registered", nameof(id));

    /// <summary>Per-endpoint state; a class so in-flight closures see later changes (down, incarnation).</summary>
    private sealed class Endpoint(string region, int regionIndex, Action<TMessage> deliver)
    {
        public string Region { get; } = region;

        public int RegionIndex { get; } = regionIndex;

        public Action<TMessage> Deliver { get; } = deliver;

        public bool Down { get; set; }

        /// <summary>Bumped each time the endpoint goes down, so messages from before a crash are recognised.</summary>
        public int Incarnation { get; set; }
    }
}
