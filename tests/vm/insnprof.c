// insnprof.c - QEMU TCG plugin (API v1 = Debian 12's QEMU 7.2): qemu-insncount's marks and
// running total (../shared/tools/qemu-insncount, same "MARK n vcpu=0 insns=N" lines), plus,
// at every mark, one line "TB <mark> <vaddr> <insns> <execs>" for each translated block
// executed since the previous mark.  tests/vm/insnprof.py turns those into instructions per
// packet by guest function, so that bench-kmod.sh (BENCH_KMOD_PROFILE=1) shows where each
// forwarding path spends them.  -smp 1 only (the counters are not atomic).
//   qemu ... -plugin ./insnprof.so -d plugin -D plugin.log
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;           /* only passed through */
struct qemu_plugin_tb;
struct qemu_plugin_insn;
enum qemu_plugin_cb_flags { QEMU_PLUGIN_CB_NO_REGS, QEMU_PLUGIN_CB_R_REGS, QEMU_PLUGIN_CB_RW_REGS };
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_vcpu_udata_cb_t)(unsigned int vcpu_index, void *userdata);
void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *tb);
struct qemu_plugin_insn *qemu_plugin_tb_get_insn(const struct qemu_plugin_tb *tb, size_t idx);
const void *qemu_plugin_insn_data(const struct qemu_plugin_insn *insn);
size_t qemu_plugin_insn_size(const struct qemu_plugin_insn *insn);
uint64_t qemu_plugin_insn_vaddr(const struct qemu_plugin_insn *insn);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op,
                                              void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_insn_exec_cb(struct qemu_plugin_insn *insn, qemu_plugin_vcpu_udata_cb_t cb,
                                            enum qemu_plugin_cb_flags flags, void *userdata);
void qemu_plugin_outs(const char *string);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

/* One per translation (a block translated twice has two): where, how long, how often. */
struct tbrec { uint64_t vaddr, n, execs, reported; };
static struct tbrec **recs;
static size_t nrecs, caprecs;
static uint64_t insns, marks;

static void on_mark(unsigned int vcpu, void *ud)
{
    char b[160];

    (void)ud;
    snprintf(b, sizeof b, "MARK %" PRIu64 " vcpu=%u insns=%" PRIu64 "\n", ++marks, vcpu, insns);
    qemu_plugin_outs(b);
    for (size_t i = 0; i < nrecs; i++) {
        struct tbrec *r = recs[i];

        if (r->execs == r->reported)
            continue;
        snprintf(b, sizeof b, "TB %" PRIu64 " %" PRIx64 " %" PRIu64 " %" PRIu64 "\n",
                 marks, r->vaddr, r->n, r->execs - r->reported);
        qemu_plugin_outs(b);
        r->reported = r->execs;
    }
}

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb)
{
    size_t n = qemu_plugin_tb_n_insns(tb);
    struct tbrec *r = calloc(1, sizeof(*r));

    (void)id;
    if (!r)
        abort();
    if (nrecs == caprecs) {
        caprecs = caprecs ? caprecs * 2 : 65536;
        recs = realloc(recs, caprecs * sizeof(*recs));
        if (!recs)
            abort();
    }
    recs[nrecs++] = r;
    r->vaddr = qemu_plugin_tb_vaddr(tb);
    r->n = n;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, n);
    qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &r->execs, 1);
    for (size_t i = 0; i < n; i++) {
        struct qemu_plugin_insn *in = qemu_plugin_tb_get_insn(tb, i);
        const uint8_t *d = qemu_plugin_insn_data(in);

        if (qemu_plugin_insn_size(in) == 2 && d[0] == 0x0f && d[1] == 0xa2 &&   /* cpuid */
            qemu_plugin_insn_vaddr(in) >> 16 == 0x1337)   /* only the mark program */
            qemu_plugin_register_vcpu_insn_exec_cb(in, on_mark, QEMU_PLUGIN_CB_NO_REGS, NULL);
    }
}

__attribute__((visibility("default")))
int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv)
{
    (void)info; (void)argc; (void)argv;
    qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
    return 0;
}
