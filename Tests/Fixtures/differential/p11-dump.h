/* Shared by the differential client's files (p11-dump.c, p11-dump-cases.c, p11-dump-names.c). */
#ifndef P11_DUMP_H
#define P11_DUMP_H
#include <p11-kit/pkcs11.h>

extern CK_FUNCTION_LIST_PTR p;
extern CK_SLOT_ID slot;

/* An object found, with the text it is sorted and printed by. */
struct listed {
    CK_OBJECT_HANDLE handle;
    char key[256];
};

void print_bytes(const unsigned char *bytes, CK_ULONG length);
void print_sha256(const unsigned char *bytes, CK_ULONG length);
void token(const char *when);
void objects(CK_SESSION_HANDLE session, const char *when);
void session_state(CK_SESSION_HANDLE session, const char *when);
void operations(CK_SESSION_HANDLE session);
void error_cases(CK_SESSION_HANDLE session, const char *pin);

/* Names, so that a difference reads as PKCS#11 and not as numbers (static buffers: print before the next call). */
const char *rv_name(CK_RV rv);
const char *class_name(CK_OBJECT_CLASS class);
const char *mechanism_name(CK_MECHANISM_TYPE mechanism);
const char *slot_flags(CK_FLAGS flags);
const char *token_flags(CK_FLAGS flags);
const char *mechanism_flags(CK_FLAGS flags);
#endif
