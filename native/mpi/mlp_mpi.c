/* The MPI shim (mlp_mpi.h). Its only state is MPI's own and a thread-local error message. */
#include "mlp_mpi.h"

#include <limits.h>
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static _Thread_local char last_error[512];

MLP_MPI_API const char *mlp_mpi_last_error(void) { return last_error; }

static int32_t fail(int code, const char *what)
{
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    if (MPI_Error_string(code, text, &length) != MPI_SUCCESS)
        snprintf(text, sizeof text, "MPI error %d", code);
    snprintf(last_error, sizeof last_error, "%s failed: %s", what, text);
    return code == 0 ? -1 : code;
}

static int32_t invalid(const char *message)
{
    snprintf(last_error, sizeof last_error, "%s", message);
    return -1;
}

/* Collectives only between mlp_mpi_init and mlp_mpi_finalize (MPI itself would abort or crash). */
static int32_t ready(void)
{
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (!initialized) return invalid("MPI is not initialised: call mlp_mpi_init first");
    if (finalized) return invalid("MPI has been finalized in this process");
    return 0;
}

#define MPI_TRY(call, what)                           \
    do {                                              \
        const int rc_ = (call);                       \
        if (rc_ != MPI_SUCCESS) return fail(rc_, what); \
    } while (0)

MLP_MPI_API int32_t mlp_mpi_init(int32_t *rank, int32_t *size)
{
    last_error[0] = 0;
    if (!rank || !size) return invalid("rank and size must not be NULL");
    int initialized = 0, finalized = 0;
    MPI_TRY(MPI_Initialized(&initialized), "MPI_Initialized");
    MPI_TRY(MPI_Finalized(&finalized), "MPI_Finalized");
    if (finalized) return invalid("MPI has been finalized in this process already");
    if (!initialized) {
        int provided = 0;
        MPI_TRY(MPI_Init_thread(NULL, NULL, MPI_THREAD_SERIALIZED, &provided), "MPI_Init_thread");
        if (provided < MPI_THREAD_SERIALIZED)
            return invalid("this MPI does not provide MPI_THREAD_SERIALIZED, which .NET (calls from changing threads) needs");
    }
    MPI_TRY(MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN), "MPI_Comm_set_errhandler");
    int r = 0, s = 0;
    MPI_TRY(MPI_Comm_rank(MPI_COMM_WORLD, &r), "MPI_Comm_rank");
    MPI_TRY(MPI_Comm_size(MPI_COMM_WORLD, &s), "MPI_Comm_size");
    *rank = r;
    *size = s;
    return 0;
}

MLP_MPI_API int32_t mlp_mpi_finalize(void)
{
    last_error[0] = 0;
    int initialized = 0, finalized = 0;
    MPI_TRY(MPI_Initialized(&initialized), "MPI_Initialized");
    MPI_TRY(MPI_Finalized(&finalized), "MPI_Finalized");
    if (initialized && !finalized)
        MPI_TRY(MPI_Finalize(), "MPI_Finalize");
    return 0;
}

/* The ring over chunk c = [c * count / size, (c + 1) * count / size): in reduce-scatter step s (s = 0 .. size-2)
 * rank r sends its partial sum of chunk (r - s) to rank r + 1 and adds rank r - 1's partial of chunk (r - s - 1) to
 * its own values, so chunk c is summed rank c, c + 1, ..., c + size - 1 in that order and complete on rank
 * c - 1; the allgather then passes the complete chunks round the ring unchanged. */
#define RING_ALLREDUCE(NAME, TYPE, MPI_TYPE)                                                                         \
    MLP_MPI_API int32_t NAME(TYPE *values, int64_t count)                                                           \
    {                                                                                                               \
        last_error[0] = 0;                                                                                          \
        if (ready() != 0) return -1;                                                                                \
        if (count < 0 || (count > 0 && !values)) return invalid("values must not be NULL and count must be >= 0"); \
        int rank = 0, size = 0;                                                                                     \
        MPI_TRY(MPI_Comm_rank(MPI_COMM_WORLD, &rank), "MPI_Comm_rank");                                             \
        MPI_TRY(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");                                             \
        if (size == 1 || count == 0) return 0;                                                                      \
        if (count / size >= INT_MAX) return invalid("a chunk of the allreduce exceeds 2^31 - 1 elements");          \
        const int64_t largest = count / size + 1;                                                                   \
        TYPE *incoming = malloc((size_t)largest * sizeof(TYPE));                                                    \
        if (!incoming) return invalid("out of memory for the allreduce's receive buffer");                          \
        const int next = (rank + 1) % size, prev = (rank + size - 1) % size;                                        \
        int32_t status = 0;                                                                                         \
        for (int s = 0; s < size - 1 && status == 0; ++s) {                                                         \
            const int send_c = ((rank - s) % size + size) % size, recv_c = ((rank - s - 1) % size + size) % size;   \
            const int64_t s0 = send_c * count / size, s1 = (send_c + 1) * count / size;                             \
            const int64_t r0 = recv_c * count / size, r1 = (recv_c + 1) * count / size;                             \
            const int rc = MPI_Sendrecv(values + s0, (int)(s1 - s0), MPI_TYPE, next, 7401, incoming, (int)(r1 - r0), \
                                        MPI_TYPE, prev, 7401, MPI_COMM_WORLD, MPI_STATUS_IGNORE);                   \
            if (rc != MPI_SUCCESS) {                                                                                \
                status = fail(rc, "MPI_Sendrecv (allreduce, reduce-scatter)");                                      \
                break;                                                                                              \
            }                                                                                                       \
            for (int64_t i = 0; i < r1 - r0; ++i) values[r0 + i] = incoming[i] + values[r0 + i];                    \
        }                                                                                                           \
        for (int s = 0; s < size - 1 && status == 0; ++s) {                                                         \
            const int send_c = ((rank + 1 - s) % size + size) % size, recv_c = ((rank - s) % size + size) % size;   \
            const int64_t s0 = send_c * count / size, s1 = (send_c + 1) * count / size;                             \
            const int64_t r0 = recv_c * count / size, r1 = (recv_c + 1) * count / size;                             \
            const int rc = MPI_Sendrecv(values + s0, (int)(s1 - s0), MPI_TYPE, next, 7402, values + r0,             \
                                        (int)(r1 - r0), MPI_TYPE, prev, 7402, MPI_COMM_WORLD, MPI_STATUS_IGNORE);   \
            if (rc != MPI_SUCCESS) status = fail(rc, "MPI_Sendrecv (allreduce, allgather)");                        \
        }                                                                                                           \
        free(incoming);                                                                                             \
        return status;                                                                                              \
    }

RING_ALLREDUCE(mlp_mpi_allreduce_f32, float, MPI_FLOAT)
RING_ALLREDUCE(mlp_mpi_allreduce_f64, double, MPI_DOUBLE)

MLP_MPI_API int32_t mlp_mpi_broadcast_f32(float *values, int64_t count, int32_t root)
{
    last_error[0] = 0;
    if (ready() != 0) return -1;
    if (count < 0 || count > INT_MAX || (count > 0 && !values)) return invalid("values must not be NULL, count in [0, 2^31)");
    MPI_TRY(MPI_Bcast(values, (int)count, MPI_FLOAT, root, MPI_COMM_WORLD), "MPI_Bcast");
    return 0;
}

MLP_MPI_API int32_t mlp_mpi_allgather_counts(int64_t count, int64_t *counts)
{
    last_error[0] = 0;
    if (ready() != 0) return -1;
    if (!counts || count < 0) return invalid("counts must not be NULL and count must be >= 0");
    long long mine = count;
    MPI_TRY(MPI_Allgather(&mine, 1, MPI_LONG_LONG, counts, 1, MPI_LONG_LONG, MPI_COMM_WORLD), "MPI_Allgather");
    return 0;
}

MLP_MPI_API int32_t mlp_mpi_allgather_f32(const float *values, int64_t count, float *recv, const int64_t *counts)
{
    last_error[0] = 0;
    if (ready() != 0) return -1;
    int size = 0;
    MPI_TRY(MPI_Comm_size(MPI_COMM_WORLD, &size), "MPI_Comm_size");
    if (!counts || !recv || count < 0 || (count > 0 && !values)) return invalid("NULL buffer or negative count");
    int *sizes = malloc((size_t)size * sizeof(int)), *displs = malloc((size_t)size * sizeof(int));
    if (!sizes || !displs) {
        free(sizes);
        free(displs);
        return invalid("out of memory for the allgather's counts");
    }
    int64_t offset = 0;
    int32_t status = 0;
    for (int r = 0; r < size; ++r) {
        if (counts[r] < 0 || counts[r] > INT_MAX || offset > INT_MAX) {
            status = invalid("an allgather of more than 2^31 - 1 elements");
            break;
        }
        sizes[r] = (int)counts[r];
        displs[r] = (int)offset;
        offset += counts[r];
    }
    if (status == 0) {
        const int rc = MPI_Allgatherv(values, (int)count, MPI_FLOAT, recv, sizes, displs, MPI_FLOAT, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) status = fail(rc, "MPI_Allgatherv");
    }
    free(sizes);
    free(displs);
    return status;
}

MLP_MPI_API int32_t mlp_mpi_barrier(void)
{
    last_error[0] = 0;
    if (ready() != 0) return -1;
    MPI_TRY(MPI_Barrier(MPI_COMM_WORLD), "MPI_Barrier");
    return 0;
}

MLP_MPI_API int32_t mlp_mpi_abort(int32_t code)
{
    last_error[0] = 0;
    if (ready() != 0) return -1;
    MPI_TRY(MPI_Abort(MPI_COMM_WORLD, code), "MPI_Abort");
    return 0;
}
