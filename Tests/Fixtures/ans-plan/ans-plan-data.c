/* ANS plan section 900: the business data objects (cryptolib-pkcs11.md §6): CPS_DATA read, rewritten with a value
 * of the same length and read back; a practice situation and the holder's name read after login; on CPS3 a
 * certificate too. Rows the plan lists twice (size, then value) print once each. See ans-plan.c. */
#include "ans-plan.h"

#include <stdlib.h>
#include <string.h>

/* Rows base..base+2: C_FindObjectsInit/C_FindObjects/C_FindObjectsFinal for one object of `class` named `label`
 * (any label when NULL); rows base+3 and base+4: the size of its CKA_VALUE, then the value. */
static CK_OBJECT_HANDLE find_and_read(CK_SESSION_HANDLE session, int base, CK_OBJECT_CLASS class, const char *label,
                                      CK_BYTE **value, CK_ULONG *length) {
    CK_ATTRIBUTE template[2] = {{CKA_CLASS, &class, sizeof class}, {CKA_LABEL, (void *)label, label ? strlen(label) : 0}};
    CK_OBJECT_HANDLE found = CK_INVALID_HANDLE;
    CK_ULONG count = 0;
    row(base, p->C_FindObjectsInit(session, template, label ? 2 : 1));
    CK_RV rv = p->C_FindObjects(session, &found, 1, &count);
    row(base + 1, rv == CKR_OK && count != 1 ? CKR_GENERAL_ERROR : rv);
    row(base + 2, p->C_FindObjectsFinal(session));
    CK_ATTRIBUTE attribute = {CKA_VALUE, NULL, 0};
    row(base + 3, p->C_GetAttributeValue(session, found, &attribute, 1));
    *value = malloc(attribute.ulValueLen + 1);
    attribute.pValue = *value;
    row(base + 4, p->C_GetAttributeValue(session, found, &attribute, 1));
    *length = attribute.ulValueLen;
    return found;
}

void data_objects(int cps3) {
    CK_SESSION_HANDLE session;
    row(900, p->C_Initialize(NULL) == CKR_OK && p->C_GetSlotList(CK_TRUE, &slot, &(CK_ULONG){1}) == CKR_OK
                 ? p->C_OpenSession(slot, CKF_SERIAL_SESSION | CKF_RW_SESSION, NULL, NULL, &session)
                 : CKR_GENERAL_ERROR);
    row(901, p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    CK_BYTE *value = NULL;
    CK_ULONG length = 0;
    CK_OBJECT_HANDLE data = find_and_read(session, 902, CKO_DATA, "CPS_DATA", &value, &length);
    for (CK_ULONG i = 0; i < length; i++) value[i] = (CK_BYTE)(i * 7 + 1);
    CK_ATTRIBUTE new_value = {CKA_VALUE, value, length};
    row(907, p->C_SetAttributeValue(session, data, &new_value, 1));
    CK_BYTE *read_back = malloc(length + 1);
    CK_ATTRIBUTE check = {CKA_VALUE, read_back, length};
    CK_RV rv = p->C_GetAttributeValue(session, data, &check, 1);
    row(908, rv == CKR_OK && (check.ulValueLen != length || memcmp(read_back, value, length) != 0) ? CKR_GENERAL_ERROR : rv);
    free(read_back);
    free(value);
    p->C_Logout(session);
    row(909, p->C_Login(session, CKU_USER, (CK_UTF8CHAR_PTR)pin, strlen(pin)));
    find_and_read(session, 910, CKO_DATA, "CPS_ACTIVITY_01_PS", &value, &length);
    free(value);
    find_and_read(session, 915, CKO_DATA, "CPS_NAME_PS", &value, &length);
    free(value);
    if (cps3) {
        find_and_read(session, 920, CKO_CERTIFICATE, NULL, &value, &length);
        free(value);
    } else {
        /* The CPS4 plan keeps only the search's first call. */
        CK_OBJECT_CLASS class = CKO_CERTIFICATE;
        CK_ATTRIBUTE template = {CKA_CLASS, &class, sizeof class};
        row(920, p->C_FindObjectsInit(session, &template, 1));
        p->C_FindObjectsFinal(session);
    }
    close_library();
}
