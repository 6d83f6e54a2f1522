using System;
using System.Threading;

namespace MlNetMlp
{
    /// <summary>Ranks on threads of one process: <see cref="Create"/> returns one communicator per rank, each to be used
    /// by its own thread (for tests, and to try data-parallel training without MPI). Sums add the ranks' values in rank
    /// order, so they are deterministic. A rank that does not arrive within the timeout makes the others throw a
    /// <see cref="TimeoutException"/>; a rank that calls <see cref="Abort"/> makes them throw at once.</summary>
    public sealed class MlpInProcessCommunicator : IMlpCommunicator
    {
        private sealed class Shared
        {
            internal readonly Barrier Barrier;
            internal readonly object[] Slots;
            internal readonly TimeSpan Timeout;
            internal volatile string Aborted;

            internal Shared(int size, TimeSpan timeout)
            {
                Barrier = new Barrier(size);
                Slots = new object[size];
                Timeout = timeout;
            }
        }

        private readonly Shared _shared;

        private MlpInProcessCommunicator(Shared shared, int rank)
        {
            _shared = shared;
            Rank = rank;
        }

        /// <summary>Communicators for <paramref name="size"/> ranks that wait at most <paramref name="timeout"/>
        /// (default: one minute) for each other.</summary>
        public static MlpInProcessCommunicator[] Create(int size, TimeSpan? timeout = null)
        {
            if (size < 1 || size > 256)
                throw new ArgumentOutOfRangeException(nameof(size), size, "The number of ranks must be in [1, 256].");
            var shared = new Shared(size, timeout ?? TimeSpan.FromMinutes(1));
            var ranks = new MlpInProcessCommunicator[size];
            for (int r = 0; r < size; r++)
                ranks[r] = new MlpInProcessCommunicator(shared, r);
            return ranks;
        }

        /// <inheritdoc/>
        public int Rank { get; }

        /// <inheritdoc/>
        public int Size => _shared.Slots.Length;

        /// <summary>Makes every other rank's current or next call throw (call it when this rank fails).</summary>
        public void Abort(string reason)
        {
            _shared.Aborted = $"rank {Rank} aborted: {reason}";
            _shared.Barrier.Dispose(); // wakes the waiting ranks with ObjectDisposedException
        }

        private void Wait()
        {
            bool arrived;
            try
            {
                arrived = _shared.Barrier.SignalAndWait(_shared.Timeout);
            }
            catch (Exception e) when (e is ObjectDisposedException || e is BarrierPostPhaseException)
            {
                throw new InvalidOperationException($"Rank {Rank}: data-parallel training stopped, {_shared.Aborted ?? "a rank failed"}.", e);
            }
            if (_shared.Aborted != null)
                throw new InvalidOperationException($"Rank {Rank}: data-parallel training stopped, {_shared.Aborted}.");
            if (!arrived)
                throw new TimeoutException($"Rank {Rank}: the other ranks did not arrive within {_shared.Timeout.TotalSeconds:G3} s " +
                    "(one of them failed or makes different calls).");
        }

        /// <inheritdoc/>
        public void AllReduceSum(Span<float> values)
        {
            _shared.Slots[Rank] = values.ToArray();
            Wait();
            values.Clear();
            foreach (float[] slot in _shared.Slots) // rank order: the same sum on every rank, run after run
            {
                if (slot.Length != values.Length)
                    throw new InvalidOperationException($"Rank {Rank}: AllReduceSum of {values.Length} values, another rank gave {slot.Length}.");
                for (int i = 0; i < values.Length; i++) values[i] += slot[i];
            }
            Wait(); // nobody refills a slot before every rank has read them all
        }

        /// <inheritdoc/>
        public void AllReduceSum(Span<double> values)
        {
            _shared.Slots[Rank] = values.ToArray();
            Wait();
            values.Clear();
            foreach (double[] slot in _shared.Slots)
            {
                if (slot.Length != values.Length)
                    throw new InvalidOperationException($"Rank {Rank}: AllReduceSum of {values.Length} values, another rank gave {slot.Length}.");
                for (int i = 0; i < values.Length; i++) values[i] += slot[i];
            }
            Wait();
        }

        /// <inheritdoc/>
        public void Broadcast(Span<float> values, int root)
        {
            if (root < 0 || root >= Size)
                throw new ArgumentOutOfRangeException(nameof(root), root, $"The root must be a rank in [0, {Size}).");
            if (Rank == root)
                _shared.Slots[Rank] = values.ToArray();
            Wait();
            var source = (float[])_shared.Slots[root];
            if (source.Length != values.Length)
                throw new InvalidOperationException($"Rank {Rank}: Broadcast of {values.Length} values, the root sent {source.Length}.");
            if (Rank != root)
                source.CopyTo(values);
            Wait();
        }

        /// <inheritdoc/>
        public float[][] AllGather(ReadOnlySpan<float> values)
        {
            _shared.Slots[Rank] = values.ToArray();
            Wait();
            var all = new float[Size][];
            for (int r = 0; r < Size; r++)
                all[r] = (float[])((float[])_shared.Slots[r]).Clone();
            Wait();
            return all;
        }

        /// <inheritdoc/>
        public void Barrier() => Wait();
    }
}
