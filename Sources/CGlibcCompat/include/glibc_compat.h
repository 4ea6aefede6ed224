// Nothing to declare: this target only pins glibc symbol versions (see glibc_compat.c).
