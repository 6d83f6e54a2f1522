/* Thread-local last-error message and the helpers that set it. */
#ifndef MLP_ERRORS_H
#define MLP_ERRORS_H

#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
#  define MLP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define MLP_PRINTF(f, a)
#endif

/* Records a formatted message for this thread and returns `status` (for `return mlp_fail(...)`). */
int32_t mlp_fail(int32_t status, const char *format, ...) MLP_PRINTF(2, 3);
/* Called at the start of every exported function so a stale message never leaks into a success. */
void mlp_clear_error(void);

/* Argument checks: return from the calling function with MLP_ERR_INVALID_ARGUMENT. */
#define MLP_CHECK(cond, ...)                                                    \
    do {                                                                        \
        if (!(cond))                                                            \
            return mlp_fail(1 /* MLP_ERR_INVALID_ARGUMENT */, __VA_ARGS__);     \
    } while (0)
#define MLP_CHECK_NOT_NULL(p) MLP_CHECK((p) != NULL, "%s must not be NULL", #p)

#endif
