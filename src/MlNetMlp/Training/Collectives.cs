using System;

namespace MlNetMlp.Training
{
    /// <summary>Collectives built from the communicator's primitives, for the values training must agree on.</summary>
    internal static class Collectives
    {
        /// <summary>Rank 0's bytes (or null) on every rank: the length in a reduction, then the bytes in a broadcast.</summary>
        internal static byte[] BroadcastBytes(this IMlpCommunicator comm, byte[] fromRoot)
        {
            Span<double> length = stackalloc double[] { comm.Rank == 0 ? fromRoot?.Length ?? -1 : 0 };
            comm.AllReduceSum(length);
            if (length[0] < 0)
                return null;
            int n = checked((int)length[0]);
            var packed = new float[(n + sizeof(float) - 1) / sizeof(float)];
            if (comm.Rank == 0)
                Buffer.BlockCopy(fromRoot, 0, packed, 0, n);
            comm.Broadcast(packed, root: 0);
            var bytes = new byte[n];
            Buffer.BlockCopy(packed, 0, bytes, 0, n);
            return bytes;
        }

        /// <summary>Every rank's <paramref name="local"/> values (the same count on every rank), exactly: each rank
        /// fills its own slot of a zero vector and the vector is sum-reduced. [rank][i].</summary>
        internal static double[][] GatherDoubles(this IMlpCommunicator comm, ReadOnlySpan<double> local)
        {
            int k = local.Length;
            var all = new double[k * comm.Size];
            local.CopyTo(all.AsSpan(comm.Rank * k, k));
            comm.AllReduceSum(all);
            var result = new double[comm.Size][];
            for (int r = 0; r < comm.Size; r++)
                result[r] = all.AsSpan(r * k, k).ToArray();
            return result;
        }

        /// <summary>The sum over the ranks of <paramref name="local"/> (a copy).</summary>
        internal static double[] Sum(this IMlpCommunicator comm, ReadOnlySpan<double> local)
        {
            var sums = local.ToArray();
            comm.AllReduceSum(sums);
            return sums;
        }
    }
}
