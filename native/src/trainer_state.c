/* Checkpoints of a trainer's optimizer state (mlp_trainer_state_size / get_state / set_state). */
#include <math.h>
#include <string.h>

#include "errors.h"
#include "trainer.h"

#define STATE_MAGIC 0x53504C4Du /* "MLPS" */
#define STATE_VERSION 1u

enum { HAS_MOMENT1 = 1, HAS_MOMENT2 = 2, HAS_INPUT_SCALE = 4, HAS_SPARSE = 8 };

/* The blob starts with this header (native byte order: checkpoints move between runs, not between architectures
 * of another endianness), then the sparse rows' decay logs (doubles), then the float arrays in a fixed order. */
typedef struct state_header {
    uint32_t magic, version;
    int32_t optimizer, flags;
    int64_t parameters, inputs, hidden, step_count;
    double decay_log;
} state_header;

/* One array of the blob: where it lives in the trainer and how many elements. */
typedef struct state_part {
    void *data;
    int64_t count, element;
} state_part;

static int state_flags(const mlp_trainer *t)
{
    return (t->moment1 ? HAS_MOMENT1 : 0) | (t->moment2 ? HAS_MOMENT2 : 0) | (t->in_scale ? HAS_INPUT_SCALE : 0) |
           (t->config.sparse_input ? HAS_SPARSE : 0);
}

/* The arrays of t's state in blob order; returns how many. */
static int state_parts(const mlp_trainer *t, state_part parts[7])
{
    const int64_t np = t->net->parameter_count, in = t->net->sizes[0], h = t->net->sizes[1];
    int n = 0;
    if (t->config.sparse_input) parts[n++] = (state_part){t->row_decay_log, in, sizeof(double)};
    if (t->moment1) parts[n++] = (state_part){t->moment1, np, sizeof(float)};
    if (t->moment2) parts[n++] = (state_part){t->moment2, np, sizeof(float)};
    if (t->in_scale) {
        parts[n++] = (state_part){t->in_scale, in, sizeof(float)};
        parts[n++] = (state_part){t->in_scale_m1, in, sizeof(float)};
        parts[n++] = (state_part){t->in_scale_m2, in, sizeof(float)};
        parts[n++] = (state_part){t->w1_raw, in * h, sizeof(float)};
    }
    return n;
}

static int64_t state_bytes(const mlp_trainer *t)
{
    state_part parts[7];
    const int n = state_parts(t, parts);
    int64_t bytes = (int64_t)sizeof(state_header);
    for (int i = 0; i < n; ++i) bytes += parts[i].count * parts[i].element;
    return bytes;
}

static state_header header_of(const mlp_trainer *t)
{
    state_header h;
    memset(&h, 0, sizeof h);
    h.magic = STATE_MAGIC;
    h.version = STATE_VERSION;
    h.optimizer = t->config.optimizer;
    h.flags = state_flags(t);
    h.parameters = t->net->parameter_count;
    h.inputs = t->net->sizes[0];
    h.hidden = t->net->sizes[1];
    h.step_count = t->step_count;
    h.decay_log = t->decay_log;
    return h;
}

MLP_API int32_t mlp_trainer_state_size(const mlp_trainer *trainer, int64_t *bytes)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK_NOT_NULL(bytes);
    *bytes = state_bytes(trainer);
    return MLP_OK;
}

/* The first index in [0, count) of a float or double array (unaligned bytes) whose value is not finite or, when
 * nonnegative is set, negative; -1 if none. */
static int64_t first_invalid(const unsigned char *p, int64_t count, int64_t element, int nonnegative)
{
    for (int64_t i = 0; i < count; ++i) {
        double v;
        if (element == (int64_t)sizeof(double)) {
            memcpy(&v, p + i * element, sizeof v);
        } else {
            float f;
            memcpy(&f, p + i * element, sizeof f);
            v = f;
        }
        if (!isfinite(v) || (nonnegative && v < 0.0)) return i;
    }
    return -1;
}

MLP_API int32_t mlp_trainer_get_state(const mlp_trainer *trainer, void *state, int64_t bytes)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK_NOT_NULL(state);
    const int64_t need = state_bytes(trainer);
    MLP_CHECK(bytes == need, "the state buffer has %lld bytes but this trainer's state has %lld (mlp_trainer_state_size)",
              (long long)bytes, (long long)need);
    const state_header h = header_of(trainer);
    unsigned char *out = state;
    memcpy(out, &h, sizeof h);
    out += sizeof h;
    state_part parts[7];
    const int n = state_parts(trainer, parts);
    for (int i = 0; i < n; ++i) {
        const size_t size = (size_t)(parts[i].count * parts[i].element);
        /* what set_state would refuse: a diverged trainer's moments (an overflowing gradient makes them infinite) */
        const int nonnegative = parts[i].data == trainer->moment2 && trainer->config.optimizer == MLP_OPT_ADAM;
        const int64_t bad = first_invalid(parts[i].data, parts[i].count, parts[i].element, nonnegative);
        if (bad >= 0)
            return mlp_fail(MLP_ERR_NOT_FINITE, "the trainer's state is not finite (array %d, element %lld): training "
                                                "diverged, probably from a learning rate too high; it cannot be resumed",
                            i, (long long)bad);
        memcpy(out, parts[i].data, size);
        out += size;
    }
    return MLP_OK;
}

MLP_API int32_t mlp_trainer_set_state(mlp_trainer *trainer, const void *state, int64_t bytes)
{
    mlp_clear_error();
    MLP_CHECK_NOT_NULL(trainer);
    MLP_CHECK_NOT_NULL(state);
    MLP_CHECK(bytes >= (int64_t)sizeof(state_header), "a trainer state has at least %d bytes, got %lld",
              (int)sizeof(state_header), (long long)bytes);
    state_header h;
    memcpy(&h, state, sizeof h);
    const state_header mine = header_of(trainer);
    MLP_CHECK(h.magic == STATE_MAGIC, "these bytes are not a trainer state (magic %08x)", (unsigned)h.magic);
    MLP_CHECK(h.version == STATE_VERSION, "trainer state version %u is not supported (this library reads %u)",
              (unsigned)h.version, STATE_VERSION);
    MLP_CHECK(h.optimizer == mine.optimizer && h.flags == mine.flags,
              "the state is of another trainer configuration (optimizer %d, flags %d; this trainer: %d, %d)",
              (int)h.optimizer, (int)h.flags, (int)mine.optimizer, (int)mine.flags);
    MLP_CHECK(h.parameters == mine.parameters && h.inputs == mine.inputs && h.hidden == mine.hidden,
              "the state is of another network (%lld parameters, %lld inputs, %lld first-layer units; this one: %lld, %lld, %lld)",
              (long long)h.parameters, (long long)h.inputs, (long long)h.hidden, (long long)mine.parameters,
              (long long)mine.inputs, (long long)mine.hidden);
    const int64_t need = state_bytes(trainer);
    MLP_CHECK(bytes == need, "the state has %lld bytes but this trainer's has %lld", (long long)bytes, (long long)need);
    MLP_CHECK(h.step_count >= 0, "the state's step count is negative (%lld)", (long long)h.step_count);
    MLP_CHECK(isfinite(h.decay_log) && h.decay_log <= 0.0, "the state's decay log must be finite and <= 0, got %g",
              h.decay_log);

    /* validate everything before changing anything */
    state_part parts[7];
    const int n = state_parts(trainer, parts);
    const unsigned char *in = (const unsigned char *)state + sizeof h;
    for (int i = 0; i < n; ++i) {
        /* Adam's second moment is a running mean of squares */
        const int nonnegative = parts[i].data == trainer->moment2 && trainer->config.optimizer == MLP_OPT_ADAM;
        const int64_t bad = first_invalid(in, parts[i].count, parts[i].element, nonnegative);
        MLP_CHECK(bad < 0, "trainer state array %d holds an invalid value at element %lld (not finite%s)", i,
                  (long long)bad, nonnegative ? " or negative" : "");
        if (parts[i].data == trainer->row_decay_log)
            for (int64_t c = 0; c < parts[i].count; ++c) {
                double v;
                memcpy(&v, in + c * (int64_t)sizeof v, sizeof v);
                MLP_CHECK(v >= h.decay_log && v <= 0.0, "row %lld's decay log (%g) is outside [%g, 0]", (long long)c, v,
                          h.decay_log);
            }
        in += parts[i].count * parts[i].element;
    }
    in = (const unsigned char *)state + sizeof h;
    for (int i = 0; i < n; ++i) {
        const size_t size = (size_t)(parts[i].count * parts[i].element);
        memcpy(parts[i].data, in, size);
        in += size;
    }
    trainer->step_count = h.step_count;
    trainer->decay_log = h.decay_log;
    return MLP_OK;
}
