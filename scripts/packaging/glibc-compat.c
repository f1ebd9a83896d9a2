/*
 * Linked into the packaged programs (scripts/build-packages.sh) so they run on the RHEL 9 family too
 * (glibc 2.34, libstdc++ of GCC 11), although they are built on Debian 12 (glibc 2.36, GCC 12).
 *
 * Three symbols of the statically linked Swift runtime and Foundation would otherwise bind to versions
 * those systems lack: hypot and hypotf (GLIBC_2.35, same function as GLIBC_2.2.5 with a faster
 * implementation) and std::condition_variable::wait (GLIBCXX_3.4.30, same function as GLIBCXX_3.4.11,
 * re-versioned when GCC 12 moved it). The linker's --wrap sends every reference to __wrap_NAME, which
 * calls the older version of the same function.
 */
double __cpsd_hypot_old(double, double);
float __cpsd_hypotf_old(float, float);
void __cpsd_cv_wait_old(void *, void *);

__asm__(".symver __cpsd_hypot_old, hypot@GLIBC_2.2.5");
__asm__(".symver __cpsd_hypotf_old, hypotf@GLIBC_2.2.5");
__asm__(".symver __cpsd_cv_wait_old, _ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE@GLIBCXX_3.4.11");

double __wrap_hypot(double x, double y) { return __cpsd_hypot_old(x, y); }
float __wrap_hypotf(float x, float y) { return __cpsd_hypotf_old(x, y); }
void __wrap__ZNSt18condition_variable4waitERSt11unique_lockISt5mutexE(void *self, void *lock) {
    __cpsd_cv_wait_old(self, lock);
}
