/* Fork-join parallelism (OpenMP when available, serial otherwise) behind one function. */
#ifndef MLP_THREADS_H
#define MLP_THREADS_H

#include <stdint.h>

#define MLP_MAX_THREADS 256

/* The thread count to use: `requested` if > 0, else the library-wide setting. */
int mlp_threads_resolve(int requested);

/* Runs fn(ctx, t, team) for t in [0, team) on up to num_threads threads; team is the team size
 * actually obtained, which the callee must use to split its work. */
typedef void (*mlp_task_fn)(void *ctx, int thread, int team);
void mlp_parallel(int num_threads, mlp_task_fn fn, void *ctx);

/* The contiguous share [*lo, *hi) of `count` items that thread `thread` of `team` takes, in whole blocks of `unit`
 * (the last block may be short): shares depend on the team size, but block boundaries never do. */
static inline void mlp_share(int64_t count, int64_t unit, int thread, int team, int64_t *lo, int64_t *hi)
{
    const int64_t blocks = (count + unit - 1) / unit, per = blocks / team, extra = blocks % team;
    const int64_t first = thread * per + (thread < extra ? thread : extra), n = per + (thread < extra ? 1 : 0);
    *lo = first * unit < count ? first * unit : count;
    *hi = (first + n) * unit < count ? (first + n) * unit : count;
}

/* Waits for the whole team (inside an mlp_parallel task; a no-op for a team of one). */
void mlp_barrier(int team);

#endif
