/* Fork-join parallelism (OpenMP when available, serial otherwise) behind one function. */
#ifndef MLP_THREADS_H
#define MLP_THREADS_H

#define MLP_MAX_THREADS 256

/* The thread count to use: `requested` if > 0, else the library-wide setting. */
int mlp_threads_resolve(int requested);

/* Runs fn(ctx, t, team) for t in [0, team) on up to num_threads threads; team is the team size
 * actually obtained, which the callee must use to split its work. */
typedef void (*mlp_task_fn)(void *ctx, int thread, int team);
void mlp_parallel(int num_threads, mlp_task_fn fn, void *ctx);

/* Waits for the whole team (inside an mlp_parallel task; a no-op for a team of one). */
void mlp_barrier(int team);

#endif
