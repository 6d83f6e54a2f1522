#include "threads.h"

#include <stdatomic.h>
#if defined(_WIN32)
#  include <windows.h>
#else
#  include <unistd.h>
#endif

#include "errors.h"
#include "mlnetmlp.h"

#if defined(_OPENMP)
#  include <omp.h>
#endif

/* The user's choice from mlp_set_num_threads (0 = all cores). A configuration value, not
 * computation state: every result is bit-identical whatever it holds. */
static atomic_int configured_threads;

static int processor_count(void)
{
#if defined(_OPENMP)
    return omp_get_num_procs();
#elif defined(_WIN32)
    SYSTEM_INFO info;
    GetSystemInfo(&info);
    return info.dwNumberOfProcessors > 0 ? (int)info.dwNumberOfProcessors : 1;
#else
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? (int)n : 1;
#endif
}

int mlp_threads_resolve(int requested)
{
    int n = requested > 0 ? requested : atomic_load(&configured_threads);
    if (n <= 0)
        n = processor_count();
    return n > MLP_MAX_THREADS ? MLP_MAX_THREADS : n;
}

void mlp_parallel(int num_threads, mlp_task_fn fn, void *ctx)
{
#if defined(_OPENMP)
    if (num_threads > 1) {
#  pragma omp parallel num_threads(num_threads)
        fn(ctx, omp_get_thread_num(), omp_get_num_threads());
        return;
    }
#else
    (void)num_threads;
#endif
    fn(ctx, 0, 1);
}

void mlp_barrier(int team)
{
#if defined(_OPENMP)
    if (team > 1) {
#  pragma omp barrier
    }
#else
    (void)team;
#endif
}

MLP_API int32_t mlp_set_num_threads(int32_t n)
{
    mlp_clear_error();
    MLP_CHECK(n <= MLP_MAX_THREADS, "number of threads %d exceeds the maximum of %d", (int)n, MLP_MAX_THREADS);
    atomic_store(&configured_threads, n > 0 ? n : 0);
    return MLP_OK;
}

MLP_API int32_t mlp_get_num_threads(void) { return mlp_threads_resolve(0); }
