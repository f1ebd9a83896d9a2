/* ANS plan sections 1000 (a long message signed and verified in parts) and 1300 (CPS4: RSA-PSS with the
 * authentication key, signed on the card and verified in software); see ans-plan.c. A row the plan repeats
 * (1003 eleven times) prints once, with the first code that was not CKR_OK. */
#include "ans-plan.h"

#include <string.h>

/* The public key with the same CKA_ID as `private_key`. */
static CK_OBJECT_HANDLE public_half(CK_SESSION_HANDLE session, CK_OBJECT_HANDLE private_key) {
    CK_BYTE id[64];
    CK_ATTRIBUTE id_attribute = {CKA_ID, id, sizeof id};
    if (p->C_GetAttributeValue(session, private_key, &id_attribute, 1) != CKR_OK) return CK_INVALID_HANDLE;
    CK_OBJECT_CLASS class = CKO_PUBLIC_KEY;
    CK_ATTRIBUTE template[2] = {{CKA_CLASS, &class, sizeof class}, {CKA_ID, id, id_attribute.ulValueLen}};
    CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    if (p->C_FindObjectsInit(session, template, 2) == CKR_OK) p->C_FindObjects(session, &found, 1, &count);
    p->C_FindObjectsFinal(session);
    return count == 1 ? found : CK_INVALID_HANDLE;
}

void long_message(void) {
    CK_SESSION_HANDLE session;
    row(1000, p->C_Initialize(NULL) == CKR_OK && p->C_GetSlotList(CK_TRUE, &slot, &(CK_ULONG){1}) == CKR_OK
                  ? p->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session)
                  : CKR_GENERAL_ERROR);
    row(1001, p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    CK_OBJECT_HANDLE key = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_SIG");
    CK_MECHANISM sha256 = {CKM_SHA256_RSA_PKCS, NULL, 0};
    CK_BYTE block[1000], signature[256];
    memset(block, 0x61, sizeof block);
    row(1002, p->C_SignInit(session, &sha256, key));
    CK_RV worst = CKR_OK;
    for (int i = 0; i < 11; i++) {
        CK_RV rv = p->C_SignUpdate(session, block, sizeof block);
        if (worst == CKR_OK) worst = rv;
    }
    row(1003, worst);
    CK_ULONG length = 0;
    row(1004, p->C_SignFinal(session, NULL, &length));
    length = sizeof signature;
    row(1005, p->C_SignFinal(session, signature, &length));
    row(1006, p->C_VerifyInit(session, &sha256, public_half(session, key)));
    worst = CKR_OK;
    for (int i = 0; i < 11; i++) {
        CK_RV rv = p->C_VerifyUpdate(session, block, sizeof block);
        if (worst == CKR_OK) worst = rv;
    }
    row(1007, worst);
    row(1008, p->C_VerifyFinal(session, signature, length));
    close_library();
}

/* CPS4 only: CKM_SHA1_RSA_PKCS_PSS and CKM_SHA256_RSA_PKCS_PSS with the authentication key, sLen = hLen. */
void pss(void) {
    CK_SESSION_HANDLE session;
    row(1300, p->C_Initialize(NULL) == CKR_OK && p->C_GetSlotList(CK_TRUE, &slot, &(CK_ULONG){1}) == CKR_OK
                  ? p->C_OpenSession(slot, CKF_SERIAL_SESSION, NULL, NULL, &session)
                  : CKR_GENERAL_ERROR);
    row(1301, p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    CK_OBJECT_HANDLE key = find_object(session, CKO_PRIVATE_KEY, "CPS_PRIV_AUT");
    CK_OBJECT_HANDLE public_key = public_half(session, key);
    CK_BYTE message[] = "ordonnance", signature[256];
    CK_RSA_PKCS_PSS_PARAMS sha1 = {CKM_SHA_1, CKG_MGF1_SHA1, 20}, sha256 = {CKM_SHA256, CKG_MGF1_SHA256, 32};
    CK_MECHANISM mechanisms[2] = {{CKM_SHA1_RSA_PKCS_PSS, &sha1, sizeof sha1}, {CKM_SHA256_RSA_PKCS_PSS, &sha256, sizeof sha256}};
    for (int i = 0; i < 2; i++) {
        int base = 1302 + 5 * i;
        row(base, p->C_SignInit(session, &mechanisms[i], key));
        CK_ULONG length = 0;
        row(base + 1, p->C_Sign(session, message, sizeof message - 1, NULL, &length));
        length = sizeof signature;
        row(base + 2, p->C_Sign(session, message, sizeof message - 1, signature, &length));
        row(base + 3, p->C_VerifyInit(session, &mechanisms[i], public_key));
        row(base + 4, p->C_Verify(session, message, sizeof message - 1, signature, length));
    }
    close_library();
}
