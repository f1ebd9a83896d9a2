/* ANS's Cryptolib conformance plan, written again in our words: each row of
 * ../shared/reference/ans-test-plan/cps{3v3,4v1}.tsv that this program runs is one PKCS#11 call whose return
 * code it prints as `row <number> <rv in hex>`; the test compares it with the plan's expected code. Rows run in
 * the plan's order because the plan's state carries over (sessions opened by 200-204 are used by 205-213).
 * Sections: 0 (library), 100 (slots and token), 200 (sessions and login) here; 300 (objects), 500 (decryption)
 * in ans-plan-keys.c; 600 (signature) in ans-plan-sign.c; 400 (encryption), 700 (verification), 800 (digest)
 * in ans-plan-software.c. Usage:
 *   ans-plan MODULE PIN CRYPTOGRAM-FILE [cps4]
 * (with `cps4`, also section 1300; sections 1000 and 1300 are in ans-plan-long.c, 900 in ans-plan-data.c)
 * CRYPTOGRAM-FILE: 256 bytes the test encrypted with the authentication certificate's key (section 500). */
#include "ans-plan.h"

#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

CK_FUNCTION_LIST_PTR p;
CK_SLOT_ID slot;
const char *pin;
static CK_SESSION_HANDLE sessions[5];

void row(int number, CK_RV rv) { printf("row %d 0x%lx\n", number, (unsigned long)rv); }

CK_RV open_session(CK_SESSION_HANDLE *session) {
    CK_RV rv = p->C_Initialize(NULL);
    CK_ULONG count = 1;
    if (rv == CKR_OK) rv = p->C_GetSlotList(CK_TRUE, &slot, &count);
    if (rv == CKR_OK) rv = p->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, session);
    if (rv != CKR_OK) fprintf(stderr, "cannot open a session: 0x%lx\n", (unsigned long)rv);
    return rv;
}

void close_library(void) { p->C_Finalize(NULL); }

CK_OBJECT_HANDLE find_object(CK_SESSION_HANDLE session, CK_OBJECT_CLASS class, const char *label) {
    CK_ATTRIBUTE template[2] = {{CKA_CLASS, &class, sizeof class}, {CKA_LABEL, (void *)label, label ? strlen(label) : 0}};
    CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    if (p->C_FindObjectsInit(session, template, label ? 2 : 1) == CKR_OK) p->C_FindObjects(session, &found, 1, &count);
    p->C_FindObjectsFinal(session);
    return count == 1 ? found : CK_INVALID_HANDLE;
}

/* The four mutex callbacks of rows 4-8: never called by a library using OS locking, only passed. */
static CK_RV create_mutex(CK_VOID_PTR_PTR mutex) { *mutex = NULL; return CKR_OK; }
static CK_RV destroy_mutex(CK_VOID_PTR mutex) { (void)mutex; return CKR_OK; }
static CK_RV lock_mutex(CK_VOID_PTR mutex) { (void)mutex; return CKR_OK; }
static CK_RV unlock_mutex(CK_VOID_PTR mutex) { (void)mutex; return CKR_OK; }

/* Section 0: C_Initialize's four argument cases of PKCS#11 §11.4, a bad one, NULL, twice; C_GetInfo. */
static void library(void) {
    row(1, p->C_Finalize(NULL));
    CK_INFO info;
    row(2, p->C_GetInfo(&info));
    CK_C_INITIALIZE_ARGS cases[4] = {
        {.flags = CKF_OS_LOCKING_OK},                                                     /* cas 3 */
        {create_mutex, destroy_mutex, lock_mutex, unlock_mutex, CKF_OS_LOCKING_OK, NULL}, /* cas 4 */
        {.flags = 0},                                                                     /* cas 1 */
        {create_mutex, destroy_mutex, lock_mutex, unlock_mutex, 0, NULL},                 /* cas 2 */
    };
    for (int i = 0; i < 4; i++) {
        row(4 + i, p->C_Initialize(&cases[i]));
        p->C_Finalize(NULL);
    }
    CK_C_INITIALIZE_ARGS half = {create_mutex, NULL, lock_mutex, NULL, 0, NULL};
    row(8, p->C_Initialize(&half));
    row(9, p->C_Initialize(NULL));
    row(10, p->C_Initialize(NULL));
    row(11, p->C_GetInfo(NULL));
    row(12, p->C_GetInfo(&info));
    row(13, p->C_Finalize(NULL));
}

/* Section 100 before C_Initialize: every call answers CKR_CRYPTOKI_NOT_INITIALIZED, NULL arguments or not. */
static void slots_uninitialized(void) {
    CK_ULONG count = 0;
    CK_SLOT_INFO slot_info;
    CK_TOKEN_INFO token_info;
    CK_SLOT_ID event_slot;
    CK_MECHANISM_INFO mechanism_info;
    row(100, p->C_GetSlotList(CK_FALSE, NULL, &count));
    row(101, p->C_GetSlotInfo(0, &slot_info));
    row(102, p->C_GetTokenInfo(0, &token_info));
    row(103, p->C_WaitForSlotEvent(CKF_DONT_BLOCK, &event_slot, NULL));
    row(104, p->C_GetMechanismList(0, NULL, &count));
    row(105, p->C_GetMechanismInfo(0, CKM_RSA_PKCS, &mechanism_info));
    row(106, p->C_InitToken(0, (CK_UTF8CHAR_PTR) "12345678", 8, (CK_UTF8CHAR_PTR) "label"));
    row(107, p->C_InitPIN(0, (CK_UTF8CHAR_PTR) "1234", 4));
    row(108, p->C_SetPIN(0, (CK_UTF8CHAR_PTR) "1234", 4, (CK_UTF8CHAR_PTR) "1234", 4));
}

/* Section 100: slots, token, slot events, mechanisms. Leaves `slot` set to the first slot with a token. */
static void slots(void) {
    CK_ULONG count = 0;
    row(109, p->C_GetSlotList(CK_FALSE, NULL, NULL));
    row(110, p->C_GetSlotList(CK_FALSE, NULL, &count));
    CK_SLOT_ID list[16];
    CK_ULONG listed = count < 16 ? count : 16;
    CK_SLOT_INFO slot_info;
    p->C_GetSlotList(CK_FALSE, list, &listed);
    row(111, listed > 0 ? p->C_GetSlotInfo(list[0], &slot_info) : CKR_GENERAL_ERROR);
    CK_ULONG small = 0;
    row(112, count > 0 ? p->C_GetSlotList(CK_FALSE, list, &small) : CKR_GENERAL_ERROR);
    CK_ULONG present = 0;
    row(113, p->C_GetSlotList(CK_TRUE, NULL, &present));
    CK_ULONG got = 16;
    row(114, p->C_GetSlotList(CK_TRUE, list, &got));
    slot = list[0];
    row(115, p->C_GetSlotInfo(slot, NULL));
    row(116, p->C_GetSlotInfo(9999, &slot_info));
    row(117, p->C_GetSlotInfo(slot, &slot_info));
    CK_TOKEN_INFO token_info;
    row(118, p->C_GetTokenInfo(slot, NULL));
    row(119, p->C_GetTokenInfo(9999, &token_info));
    row(120, p->C_GetTokenInfo(slot, &token_info));
    CK_SLOT_ID event_slot;
    row(123, p->C_WaitForSlotEvent(CKF_DONT_BLOCK, &event_slot, NULL));
    CK_ULONG mechanisms = 0;
    p->C_GetMechanismList(slot, NULL, &mechanisms);
    CK_MECHANISM_TYPE types[64];
    CK_ULONG too_few = mechanisms > 0 ? mechanisms - 1 : 0;
    row(124, p->C_GetMechanismList(slot, types, &too_few));
    row(125, p->C_GetMechanismList(slot, NULL, &mechanisms));
    CK_ULONG room = 64;
    CK_RV rv = p->C_GetMechanismList(slot, types, &room);
    row(126, rv);
    CK_RV all = CKR_OK;
    CK_MECHANISM_INFO info;
    for (CK_ULONG i = 0; rv == CKR_OK && i < room && all == CKR_OK; i++) all = p->C_GetMechanismInfo(slot, types[i], &info);
    row(127, all);
}

/* Section 200: sessions and login, with the PIN given on the command line. */
static void sessions_and_login(void) {
    CK_FLAGS ro = CKF_SERIAL_SESSION, rw = CKF_SERIAL_SESSION | CKF_RW_SESSION;
    row(200, p->C_OpenSession(slot, ro, NULL, NULL, &sessions[0]));
    row(201, p->C_OpenSession(slot, rw, NULL, NULL, &sessions[1]));
    row(202, p->C_OpenSession(slot, ro, NULL, NULL, &sessions[2]));
    row(203, p->C_OpenSession(slot, ro, NULL, NULL, &sessions[3]));
    row(204, p->C_OpenSession(slot, ro, NULL, NULL, &sessions[4]));
    CK_SESSION_INFO info;
    row(205, p->C_GetSessionInfo(sessions[0], &info));
    row(206, p->C_Login(sessions[1], CKU_SO, (CK_UTF8CHAR_PTR) "12345678", 8));
    row(207, p->C_Login(sessions[0], CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    row(208, p->C_Login(sessions[0], CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    CK_ULONG state_length = 0;
    row(209, p->C_GetOperationState(sessions[0], NULL, &state_length));
    CK_BYTE state[8] = {0};
    row(210, p->C_SetOperationState(sessions[0], state, sizeof state, 0, 0));
    row(211, p->C_Logout(sessions[0]));
    row(212, p->C_CloseSession(sessions[0]));
    row(213, p->C_CloseAllSessions(slot));
    row(214, p->C_CloseSession(sessions[2]));
    row(215, p->C_GetSessionInfo(sessions[2], &info));
    row(216, p->C_Login(sessions[2], CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    row(217, p->C_OpenSession(slot, ro, NULL, NULL, NULL));
}

static void sessions_uninitialized(void) {
    CK_SESSION_HANDLE session;
    CK_SESSION_INFO info;
    row(218, p->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session));
    row(219, p->C_GetSessionInfo(1, &info));
    row(220, p->C_Login(1, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    row(221, p->C_InitPIN(1, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    row(222, p->C_Logout(1));
}

int main(int argc, char **argv) {
    if (argc != 4 && argc != 5) {
        fprintf(stderr, "usage: ans-plan MODULE PIN CRYPTOGRAM-FILE [cps4]\n");
        return 2;
    }
    unsigned char cryptogram[512];
    FILE *file = fopen(argv[3], "rb");
    size_t cryptogram_length = file ? fread(cryptogram, 1, sizeof cryptogram, file) : 0;
    if (file) fclose(file);
    pin = argv[2];
    void *module = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    CK_C_GetFunctionList get = module ? (CK_C_GetFunctionList)dlsym(module, "C_GetFunctionList") : NULL;
    if (get == NULL || get(&p) != CKR_OK) {
        fprintf(stderr, "cannot load %s: %s\n", argv[1], dlerror());
        return 2;
    }
    library();
    slots_uninitialized();
    if (p->C_Initialize(NULL) != CKR_OK) return 1;
    slots();
    sessions_and_login();
    p->C_Finalize(NULL);
    sessions_uninitialized();
    objects();
    encryption();
    decryption(cryptogram, cryptogram_length);
    signature();
    verification();
    digest();
    data_objects(!(argc > 4 && strcmp(argv[4], "cps4") == 0));
    long_message();
    if (argc > 4 && strcmp(argv[4], "cps4") == 0) pss();
    return 0;
}
