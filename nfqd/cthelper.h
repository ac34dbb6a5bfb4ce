/* cthelper.h - the userspace conntrack helper "sipnat" (nfnetlink_cthelper,
 * stock kernels only; the CI host kernel has none).
 *
 * Registered, the helper makes the kernel queue every packet of a flow the
 * ruleset attaches it to (`ct helper set "sipnat"`, both directions, at
 * POSTROUTING after NAT) to nfqd's queue, and lets ctnetlink hang conntrack
 * expectations (media pinholes, pin_expect.c) off that flow.
 *
 * Owns: registering and unregistering the helper and its expectation
 * policies (the classes below).
 * Must not: bind the queue or create expectations.
 *
 * Order matters: register before the ruleset that names the helper is
 * loaded (nft refuses a ct helper object naming an unknown helper).
 */
#ifndef SIPNAT_CTHELPER_H
#define SIPNAT_CTHELPER_H

#include <stddef.h>
#include <stdint.h>

#define CTHELPER_NAME "sipnat"

/* Expectation classes (the policy index the kernel counts and times each
 * expectation by; CTA_EXPECT_CLASS), chosen per stream by its m= type
 * (enum pin_class in pinhole.h).
 *
 * Older kernels (upstream ctnetlink before its rework of expectation
 * helpers) take CTA_EXPECT_CLASS only when the request also names a helper
 * (CTA_EXPECT_HELP_NAME; class 0 otherwise), and give the flow the
 * expectation makes that helper: naming "sipnat" would queue that media
 * flow's every packet to nfqd.  So pin_expect.c names CTHELPER_MEDIA_NAME
 * instead: a second userspace helper registered disabled
 * (NFCT_HELPER_STATUS_DISABLED), whose kernel hook accepts every packet
 * without queueing it.  Newer kernels, Debian's 6.1.0-57 among them
 * (tested: class 1 with and without the name, flows without a helper),
 * take the class from the master's helper and ignore the name.  Only
 * class 1 names it: audio/video stays class 0 with no helper on its flows
 * (an nft flowtable skips flows that carry a helper).  The counting always
 * follows the SIP flow's own helper, "sipnat", and its policies below. */
#define CTHELPER_MEDIA_NAME "sipnat-media"

enum cthelper_class {
	CTH_CLASS_AV = 0,		/* audio/video RTP+RTCP: max 255, 180 s */
	CTH_CLASS_OTHER = 1,		/* image (T.38), application, ...: max 64, 180 s */
	CTH_CLASS_SIGNALLING = 2,	/* max 1, 180 s (reserved, unused) */
	CTH_CLASS__COUNT
};

/* The limits, per master flow (one SIP signalling flow, which may carry
 * many dialogs: a trunk).  255 is the kernel's ceiling
 * (NF_CT_EXPECT_MAX_CNT); a class at its maximum evicts its oldest
 * expectation for a new one.  The timeout is how long an expectation
 * waits for its first media packet (the kernel takes it from the policy,
 * not from the request). */
#define CTH_MAX_SIGNALLING 1
#define CTH_MAX_AV 255
#define CTH_MAX_OTHER 64
#define CTH_TIMEOUT_S 180

/* Registers (or updates) the helper for UDP over IPv4 and IPv6 with queue
 * qnum, and the disabled CTHELPER_MEDIA_NAME beside it.  0, or -1 with
 * errno set and a reason in err. */
int cthelper_register(uint16_t qnum, char *err, size_t errlen);
/* Unregisters it (both families), and then CTHELPER_MEDIA_NAME (kept
 * while "sipnat" stays: unregistering it deletes the class-1 expectations
 * still waiting).  0; -1 with errno EBUSY when an nft ct helper object
 * still names it (the kernel keeps it until the ruleset is unloaded), or
 * another errno. */
int cthelper_unregister(void);

#endif
