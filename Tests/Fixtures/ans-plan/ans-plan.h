/* Shared by the ANS plan's section files: the module under test, the token's slot, the PIN, and the helpers. */
#ifndef ANS_PLAN_H
#define ANS_PLAN_H
#include <p11-kit/pkcs11.h>

extern CK_FUNCTION_LIST_PTR p;
extern CK_SLOT_ID slot;
extern const char *pin;

/* Prints `row <number> <rv>`: the line the test compares with the plan. */
void row(int number, CK_RV rv);
/* C_Initialize(NULL), the first slot with a token, one R/W session on it. */
CK_RV open_session(CK_SESSION_HANDLE *session);
/* The one object of `class` labelled `label` (any label when NULL), or CK_INVALID_HANDLE. */
CK_OBJECT_HANDLE find_object(CK_SESSION_HANDLE session, CK_OBJECT_CLASS class, const char *label);
/* C_Finalize: the next section starts from an uninitialised library. */
void close_library(void);

void objects(void);
void decryption(const unsigned char *cryptogram, CK_ULONG length);
void signature(void);
void encryption(void);
void verification(void);
void digest(void);
void long_message(void);
void pss(void);
void data_objects(int cps3);
#endif
