/*
 * mlp_mpi.h - libmlnetmlp_mpi, the MPI transport of MlpMpiCommunicator: a separate library, loaded only when a
 * program trains with MPI, so that libmlnetmlp itself never needs an MPI installed.
 * Every function returns 0 or an MPI error code (message: mlp_mpi_last_error, thread-local). Collectives are called
 * by one thread at a time (MPI_THREAD_SERIALIZED).
 */
#ifndef MLP_MPI_H
#define MLP_MPI_H

#include <stdint.h>

#if defined(_WIN32)
#  define MLP_MPI_API __declspec(dllexport)
#else
#  define MLP_MPI_API __attribute__((visibility("default")))
#endif

/* MPI_Init_thread unless MPI is initialised already; errors return instead of aborting; this process's rank and the
 * world's size. */
MLP_MPI_API int32_t mlp_mpi_init(int32_t *rank, int32_t *size);
/* MPI_Finalize, once (later calls do nothing). */
MLP_MPI_API int32_t mlp_mpi_finalize(void);
/* Sum over all ranks, in place, by a ring (reduce-scatter, then allgather): bandwidth-optimal, and deterministic:
 * each chunk's sum is added in one fixed order, on one rank, and copied to the others, so every rank gets the same
 * bits, run after run, for a given number of ranks. */
MLP_MPI_API int32_t mlp_mpi_allreduce_f32(float *values, int64_t count);
MLP_MPI_API int32_t mlp_mpi_allreduce_f64(double *values, int64_t count);
MLP_MPI_API int32_t mlp_mpi_broadcast_f32(float *values, int64_t count, int32_t root);
/* counts[r] = rank r's count (counts has size entries). */
MLP_MPI_API int32_t mlp_mpi_allgather_counts(int64_t count, int64_t *counts);
/* recv = every rank's values, rank after rank (counts from mlp_mpi_allgather_counts). */
MLP_MPI_API int32_t mlp_mpi_allgather_f32(const float *values, int64_t count, float *recv, const int64_t *counts);
MLP_MPI_API int32_t mlp_mpi_barrier(void);
/* MPI_Abort of the world: the launcher ends every rank. */
MLP_MPI_API int32_t mlp_mpi_abort(int32_t code);
MLP_MPI_API const char *mlp_mpi_last_error(void);

#endif
