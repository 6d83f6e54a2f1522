using System;
using System.Runtime.InteropServices;

namespace MlNetMlp
{
    /// <summary>The MPI transport of data-parallel training: start the program with <c>mpirun -np N</c> (OpenMPI or
    /// MPICH) and pass <c>new MlpMpiCommunicator()</c> as <see cref="MlpTrainerOptionsBase.Communicator"/> on every rank.
    /// It talks to MPI through <c>libmlnetmlp_mpi</c>, a small native shim built next to the MlNetMlp native library
    /// when an MPI is installed (Debian/Ubuntu: <c>apt-get install openmpi-bin libopenmpi-dev</c>) and loaded only here.
    /// Allreduce is a ring (reduce-scatter, then allgather) with a fixed summation order: a given number of ranks gives
    /// the same sums, run after run. When a rank dies, <c>mpirun</c> ends the others; a rank that exits with a failing
    /// code or an unhandled exception aborts the job (MPI_Abort) so that no rank waits for it. Dispose (or a clean
    /// process exit) finalizes MPI.</summary>
    public sealed unsafe partial class MlpMpiCommunicator : IMlpCommunicator, IDisposable
    {
        private const string ShimName = "libmlnetmlp_mpi";
        private bool _disposed;

        /// <summary>Initializes MPI (once per process) and reads this process's rank and the world's size. Throws an
        /// <see cref="InvalidOperationException"/> saying what to do when the process was not started by an MPI
        /// launcher, or when the shim or MPI cannot be loaded.</summary>
        public MlpMpiCommunicator()
        {
            if (!StartedByLauncher())
                throw new InvalidOperationException("MlpMpiCommunicator: this process was not started by an MPI launcher (no OMPI_COMM_WORLD_SIZE, " +
                    "PMI_SIZE or PMIX_RANK in its environment). Start every rank with `mpirun -np N dotnet <app>.dll`, or train in one process " +
                    "without a communicator.");
            int rank, size;
            try
            {
                Check(mlp_mpi_init(out rank, out size));
            }
            catch (DllNotFoundException e)
            {
                throw new InvalidOperationException($"MlpMpiCommunicator: the MPI shim {ShimName} or the MPI library it links could not be loaded. " +
                    "It is built with the MlNetMlp native library when cmake finds an MPI: install one (Debian/Ubuntu: apt-get install openmpi-bin " +
                    $"libopenmpi-dev) and rebuild, and start the program with mpirun. ({e.Message})", e);
            }
            Rank = rank;
            Size = size;
            // A rank that ends while the others wait in a collective must take the job down, not finalize (MPI_Finalize
            // would wait for them, and they for it): a failing exit or an unhandled exception aborts the job, so the
            // launcher ends every rank at once; a clean exit finalizes.
            AppDomain.CurrentDomain.ProcessExit += (_, _) =>
            {
                if (Environment.ExitCode != 0)
                    AbortJob(Environment.ExitCode);
                else
                    Dispose();
            };
            AppDomain.CurrentDomain.UnhandledException += (_, e) =>
            {
                Console.Error.WriteLine($"MlpMpiCommunicator: rank {Rank} failed ({(e.ExceptionObject as Exception)?.Message}); aborting the MPI job.");
                AbortJob(1);
            };
        }

        private void AbortJob(int exitCode)
        {
            if (_disposed)
                return;
            _disposed = true;
            mlp_mpi_abort(exitCode);
        }

        /// <summary>True when the environment shows an MPI launcher (OpenMPI, MPICH/Hydra, PMIx).</summary>
        public static bool StartedByLauncher() =>
            Environment.GetEnvironmentVariable("OMPI_COMM_WORLD_SIZE") != null ||
            Environment.GetEnvironmentVariable("PMI_SIZE") != null ||
            Environment.GetEnvironmentVariable("PMIX_RANK") != null;

        /// <inheritdoc/>
        public int Rank { get; }

        /// <inheritdoc/>
        public int Size { get; }

        /// <inheritdoc/>
        public void AllReduceSum(Span<float> values)
        {
            ThrowIfDisposed();
            fixed (float* p = values) Check(mlp_mpi_allreduce_f32(p, values.Length));
        }

        /// <inheritdoc/>
        public void AllReduceSum(Span<double> values)
        {
            ThrowIfDisposed();
            fixed (double* p = values) Check(mlp_mpi_allreduce_f64(p, values.Length));
        }

        /// <inheritdoc/>
        public void Broadcast(Span<float> values, int root)
        {
            ThrowIfDisposed();
            if (root < 0 || root >= Size)
                throw new ArgumentOutOfRangeException(nameof(root), root, $"The root must be a rank in [0, {Size}).");
            fixed (float* p = values) Check(mlp_mpi_broadcast_f32(p, values.Length, root));
        }

        /// <inheritdoc/>
        public float[][] AllGather(ReadOnlySpan<float> values)
        {
            ThrowIfDisposed();
            var counts = new long[Size];
            fixed (long* c = counts) Check(mlp_mpi_allgather_counts(values.Length, c));
            long total = 0;
            foreach (var c in counts) total += c;
            var all = new float[total];
            fixed (float* v = values)
            fixed (float* a = all)
            fixed (long* c = counts)
                Check(mlp_mpi_allgather_f32(v, values.Length, a, c));
            var result = new float[Size][];
            long offset = 0;
            for (int r = 0; r < Size; r++)
            {
                result[r] = all.AsSpan((int)offset, (int)counts[r]).ToArray();
                offset += counts[r];
            }
            return result;
        }

        /// <inheritdoc/>
        public void Barrier()
        {
            ThrowIfDisposed();
            Check(mlp_mpi_barrier());
        }

        /// <summary>Ends every rank of the job (MPI_Abort): for a rank that cannot go on.</summary>
        public void Abort(int exitCode)
        {
            ThrowIfDisposed();
            Check(mlp_mpi_abort(exitCode));
        }

        private void ThrowIfDisposed()
        {
            if (_disposed)
                throw new ObjectDisposedException(nameof(MlpMpiCommunicator), "MPI has been finalized in this process: create the communicator once and dispose it after training.");
        }

        /// <summary>Finalizes MPI (once; later collectives fail).</summary>
        public void Dispose()
        {
            if (_disposed)
                return;
            _disposed = true;
            mlp_mpi_finalize();
        }

        private static void Check(int status)
        {
            if (status != 0)
                throw new InvalidOperationException($"MPI: {Marshal.PtrToStringUTF8(mlp_mpi_last_error())}");
        }

        [LibraryImport(ShimName)] private static partial int mlp_mpi_init(out int rank, out int size);
        [LibraryImport(ShimName)] private static partial int mlp_mpi_finalize();
        [LibraryImport(ShimName)] private static partial int mlp_mpi_allreduce_f32(float* values, long count);
        [LibraryImport(ShimName)] private static partial int mlp_mpi_allreduce_f64(double* values, long count);
        [LibraryImport(ShimName)] private static partial int mlp_mpi_broadcast_f32(float* values, long count, int root);
        [LibraryImport(ShimName)] private static partial int mlp_mpi_allgather_counts(long count, long* counts);
        [LibraryImport(ShimName)] private static partial int mlp_mpi_allgather_f32(float* values, long count, float* recv, long* counts);
        [LibraryImport(ShimName)] private static partial int mlp_mpi_barrier();
        [LibraryImport(ShimName)] private static partial int mlp_mpi_abort(int code);
        [LibraryImport(ShimName)] private static partial nint mlp_mpi_last_error();
    }
}
