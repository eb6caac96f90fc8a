#ifndef HF_BANNED_H
#define HF_BANNED_H

/*
 * Included last by every .c file: unsafe or non-reentrant libc calls become
 * compile errors (git's banned.h). Worker threads make the time functions
 * dangerous, not just unfashionable.
 */
#define HF_BANNED(func) sorry_##func##_is_a_banned_function

#undef strcpy
#define strcpy(x, y) HF_BANNED(strcpy)
#undef strcat
#define strcat(x, y) HF_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) HF_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) HF_BANNED(strncat)
#undef sprintf
#define sprintf(...) HF_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) HF_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) HF_BANNED(strtok)
#undef gets
#define gets(x) HF_BANNED(gets)
#undef atoi
#define atoi(x) HF_BANNED(atoi)
#undef atol
#define atol(x) HF_BANNED(atol)
#undef gmtime
#define gmtime(t) HF_BANNED(gmtime)
#undef localtime
#define localtime(t) HF_BANNED(localtime)
#undef ctime
#define ctime(t) HF_BANNED(ctime)
#undef asctime
#define asctime(t) HF_BANNED(asctime)

#endif
