// Force-included (-include) by the prebuilt binaries' compile only (binding.gyp's es_old_glibc=1, set by
// scripts/prebuild.mjs): binds the libm functions whose default version glibc 2.29 renewed to their
// original x86-64 version, so a binary linked on a newer glibc still loads on glibc 2.28. glibc 2.29
// dropped the SVID error wrapper from exp, log and pow; the values are the same, only errno/matherr on
// domain errors differ, which nothing here reads (-fno-math-errno).
#if defined(__x86_64__) && defined(__linux__)
__asm__(".symver exp,exp@GLIBC_2.2.5");
__asm__(".symver log,log@GLIBC_2.2.5");
__asm__(".symver pow,pow@GLIBC_2.2.5");
#endif
