/* A Pi 4 class core for the arm64 emulated tests (test/platform/arm64-emulated.test.ts).
 *
 * QEMU's arm64 models all report the Cryptography Extension, and QEMU user mode has no switch to
 * take it away; a Raspberry Pi 4's Cortex-A72 (BCM2711) has none of it. Preloaded into the
 * arm64 node, this library answers getauxval(AT_HWCAP) with the crypto bits cleared, so every
 * caller that asks the kernel through getauxval (the addon's dispatcher, and node's own OpenSSL)
 * sees such a core. It stands in for hardware that cannot be had here, nothing else. */
#define _GNU_SOURCE
#include <asm/hwcap.h>
#include <dlfcn.h>
#include <sys/auxv.h>

static const unsigned long kCrypto = HWCAP_AES | HWCAP_PMULL | HWCAP_SHA1 | HWCAP_SHA2 | HWCAP_SHA3 |
                                     HWCAP_SHA512 | HWCAP_SM3 | HWCAP_SM4;

unsigned long getauxval(unsigned long type) {
    static unsigned long (*real)(unsigned long);
    if (real == 0) real = (unsigned long (*)(unsigned long))dlsym(RTLD_NEXT, "getauxval");
    const unsigned long value = real(type);
    return type == AT_HWCAP ? value & ~kCrypto : value;
}
