using System;

namespace MlNetMlp
{
    /// <summary>The collectives of synchronous data-parallel training (the model of Horovod and PyTorch DDP): every
    /// process ("rank") trains on its share of each minibatch and the ranks sum their gradients. The host supplies
    /// the transport, as ML.NET's LightGbm wrapper takes its parallel backend: <see cref="MlpMpiCommunicator"/> for MPI,
    /// <see cref="MlpInProcessCommunicator"/> for ranks on threads of one process, or any implementation of this
    /// interface (Gloo, a cluster scheduler's own). Set it as <see cref="MlpTrainerOptionsBase.Communicator"/>.</summary>
    /// <remarks>Every rank must make the same calls in the same order with the same lengths, as with MPI. The sums
    /// must be deterministic (a fixed reduction order) for training to be reproducible, and identical on every rank,
    /// since the ranks apply them independently. A rank that fails must make the others fail too (an exception from
    /// these calls within a bounded time), never leave them waiting.</remarks>
    public interface IMlpCommunicator
    {
        /// <summary>This process's index, in [0, <see cref="Size"/>).</summary>
        int Rank { get; }

        /// <summary>The number of ranks training together.</summary>
        int Size { get; }

        /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over all ranks.</summary>
        void AllReduceSum(Span<float> values);

        /// <summary>Replaces <paramref name="values"/> on every rank with the element-wise sum over all ranks.</summary>
        void AllReduceSum(Span<double> values);

        /// <summary>Copies <paramref name="values"/> of rank <paramref name="root"/> into every other rank's.</summary>
        void Broadcast(Span<float> values, int root);

        /// <summary>Every rank's <paramref name="values"/> (lengths may differ), indexed by rank.</summary>
        float[][] AllGather(ReadOnlySpan<float> values);

        /// <summary>Returns when every rank has called it.</summary>
        void Barrier();
    }
}
