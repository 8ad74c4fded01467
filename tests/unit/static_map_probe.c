/* A shared object for static_memory_map_test: loaded with dlopen after the
 * map was built, so the map must notice it. Its globals stand in for an
 * extension's `static PyObject *` caches (.bss) and static types (.data). */
int interpsan_probe_data = 42;
int interpsan_probe_bss;

int* interpsan_probe_bss_address(void) { return &interpsan_probe_bss; }
