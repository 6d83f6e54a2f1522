#include "errors.h"

#include <stdarg.h>
#include <stdio.h>

#include "mlnetmlp.h"

/* Thread-local so that concurrent callers never see each other's messages. */
static _Thread_local char last_error[512];

int32_t mlp_fail(int32_t status, const char *format, ...)
{
    va_list args;
    va_start(args, format);
    vsnprintf(last_error, sizeof last_error, format, args);
    va_end(args);
    return status;
}

void mlp_clear_error(void) { last_error[0] = '\0'; }

MLP_API const char *mlp_last_error_message(void) { return last_error; }
