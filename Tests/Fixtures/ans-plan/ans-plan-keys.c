/* ANS plan sections 300 (objects), 500 (decryption) and 600 (signature), in the plan's order; see ans-plan.c.
 * Each section starts from an initialised library with one R/W session on the first token. */
#include "ans-plan.h"

#include <string.h>

static CK_RV login(CK_SESSION_HANDLE session) {
    return p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin));
}

void objects(void) {
    CK_SESSION_HANDLE session;
    CK_OBJECT_HANDLE object = CK_INVALID_HANDLE, objects_found[8];
    CK_ULONG count = 0;
    CK_ATTRIBUTE none[1];
    row(300, p->C_FindObjectsInit(1, none, 0));
    row(301, p->C_FindObjects(1, objects_found, 8, &count));
    row(302, p->C_FindObjectsFinal(1));
    CK_ATTRIBUTE label = {CKA_LABEL, NULL, 0};
    row(303, p->C_GetAttributeValue(1, 1, &label, 1));
    if (open_session(&session) != CKR_OK) return;
    CK_OBJECT_CLASS data_class = CKO_DATA;
    CK_ATTRIBUTE data_template = {CKA_CLASS, &data_class, sizeof data_class};
    row(304, p->C_CreateObject(session, &data_template, 1, &object));
    row(305, p->C_CopyObject(session, 1, &data_template, 1, &object));
    row(306, p->C_FindObjectsInit(session + 1000, none, 0));
    row(307, p->C_FindObjectsInit(session, none, 0));
    row(308, p->C_FindObjects(session, objects_found, 8, &count));
    row(309, p->C_FindObjects(session + 1000, objects_found, 8, &count));
    CK_ULONG size = 0;
    row(310, p->C_GetObjectSize(session, objects_found[0], &size));
    row(311, p->C_FindObjectsFinal(session));
    row(312, p->C_GetAttributeValue(session, objects_found[0], &label, 1));
    CK_OBJECT_CLASS private_class = CKO_PRIVATE_KEY, public_class = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE private_key = {CKA_CLASS, &private_class, sizeof private_class};
    row(313, p->C_FindObjectsInit(session, &private_key, 1));
    row(314, p->C_FindObjects(session, objects_found, 8, &count));
    row(315, p->C_FindObjectsFinal(session));
    CK_ATTRIBUTE public_key = {CKA_CLASS, &public_class, sizeof public_class};
    row(316, p->C_FindObjectsInit(session, &public_key, 1));
    row(317, p->C_FindObjects(session, objects_found, 8, &count));
    row(318, p->C_FindObjectsFinal(session));
    close_library();
}

/* `cryptogram` was made by the test with the authentication certificate's public key (PKCS#1 v1.5). */
void decryption(const unsigned char *cryptogram, CK_ULONG length) {
    CK_MECHANISM rsa = {CKM_RSA_PKCS, NULL, 0}, bad = {0x80001234UL, NULL, 0};
    CK_BYTE out[256];
    CK_ULONG out_length = sizeof out;
    row(500, p->C_DecryptInit(1, &rsa, 1));
    CK_SESSION_HANDLE session;
    if (open_session(&session) != CKR_OK) return;
    CK_OBJECT_HANDLE key = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_AUT");
    row(501, p->C_DecryptInit(session + 1000, &rsa, key));
    row(502, login(session));
    key = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_AUT");
    row(503, p->C_DecryptInit(session, &rsa, 0xDEAD));
    row(504, p->C_DecryptInit(session, &bad, key));
    p->C_Logout(session);
    row(505, p->C_DecryptInit(session, &rsa, key));
    login(session);
    row(506, p->C_Decrypt(session, (CK_BYTE_PTR)cryptogram, length, out, &out_length));
    row(507, p->C_Decrypt(session + 1000, (CK_BYTE_PTR)cryptogram, length, out, &out_length));
    row(508, p->C_DecryptInit(session, &rsa, key));
    row(509, p->C_Decrypt(session, (CK_BYTE_PTR)cryptogram, length, out, NULL));
    CK_ULONG tiny = 1;
    row(510, p->C_Decrypt(session, (CK_BYTE_PTR)cryptogram, length, out, &tiny));
    out_length = 0;
    row(511, p->C_Decrypt(session, (CK_BYTE_PTR)cryptogram, length, NULL, &out_length));
    out_length = sizeof out;
    row(512, p->C_Decrypt(session, (CK_BYTE_PTR)cryptogram, length, out, &out_length));
    close_library();
    row(513, p->C_Initialize(NULL));
    p->C_GetSlotList(CK_TRUE, &slot, &(CK_ULONG){1});
    p->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session);
    row(514, login(session));
    key = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_AUT");
    row(515, p->C_DecryptInit(session, &rsa, key));
    out_length = 0;
    row(516, p->C_Decrypt(session, (CK_BYTE_PTR)cryptogram, length, NULL, &out_length));
    out_length = sizeof out;
    row(517, p->C_Decrypt(session, (CK_BYTE_PTR)cryptogram, length, out, &out_length));
    close_library();
}
