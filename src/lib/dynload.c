#include <dlfcn.h>

#include "lib/dynload.h"

int dynload(const char *soname, const struct dynload_sym *syms, size_t n, const char *what,
	    const char *package, ik_err *e)
{
	void *h = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
	if (h == NULL) {
		const char *why = dlerror();
		return ik_err_set(e, "cannot use %s: %s could not be loaded (%s); install it "
				  "(Debian: apt-get install %s)", what, soname,
				  why != NULL ? why : "not found", package);
	}
	for (size_t i = 0; i < n; i++) {
		void *f = dlsym(h, syms[i].name);
		if (f == NULL) {
			for (size_t j = 0; j < n; j++)
				*syms[j].slot = NULL;
			dlclose(h);
			return ik_err_set(e, "cannot use %s: %s lacks %s; install a newer one "
					  "(Debian: apt-get install %s)", what, soname,
					  syms[i].name, package);
		}
		*syms[i].slot = f;
	}
	return 0;	/* the library stays loaded for the process's life */
}
