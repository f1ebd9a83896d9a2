// The cpsd TEST PKI: a look-alike of the IGC-Santé TEST "FORT" hierarchy (reference `cps3-card.md` §14.1, §15).
//
// THIS IS A PUBLIC TEST PKI. The intermediate CA private key below is published on purpose so that any build
// of cpsd can provision virtual cards that chain to the shipped test trust store
// (Packaging/trust/test/). Nothing issued by it must ever be trusted in production, and no production trust
// store may contain its root. The root's private key was discarded after the intermediate was issued.
//
// Generated once by Packaging/trust/test/generate-test-pki.sh (OpenSSL 3.0, RSA-4096, sha256WithRSAEncryption,
// validity 2013-06-25 → 2033-06-25). Regenerating makes a different CA: update this file and the PEM files in
// Packaging/trust/test/ together (a test checks that they are equal).

/// The PEM material of the fixed test PKI that virtual cards are issued from.
package enum TestPKIMaterial {
    /// `C=FR, O=ASIP-SANTE, OU=0002 187512751, OU=IGC-SANTE TEST, CN=TEST AC RACINE IGC-SANTE FORT`, self-signed,
    /// CA without a path length limit. Shipped as Packaging/trust/test/TEST-AC-RACINE-IGC-SANTE-FORT.pem.
    package static let rootCertificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIGEjCCA/qgAwIBAgIQGwBx4QmMCR0cBKMBoovo6zANBgkqhkiG9w0BAQsFADB8
        MQswCQYDVQQGEwJGUjETMBEGA1UECgwKQVNJUC1TQU5URTEXMBUGA1UECwwOMDAw
        MiAxODc1MTI3NTExFzAVBgNVBAsMDklHQy1TQU5URSBURVNUMSYwJAYDVQQDDB1U
        RVNUIEFDIFJBQ0lORSBJR0MtU0FOVEUgRk9SVDAeFw0xMzA2MjUwMDAwMDBaFw0z
        MzA2MjUwMDAwMDBaMHwxCzAJBgNVBAYTAkZSMRMwEQYDVQQKDApBU0lQLVNBTlRF
        MRcwFQYDVQQLDA4wMDAyIDE4NzUxMjc1MTEXMBUGA1UECwwOSUdDLVNBTlRFIFRF
        U1QxJjAkBgNVBAMMHVRFU1QgQUMgUkFDSU5FIElHQy1TQU5URSBGT1JUMIICIjAN
        BgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEApv8QtwtMVYvrcxvQhxwmYYK6H9Qs
        ZvcNRhdHtSFbqcjPkXI3X008oMq+NBVjeI1ALeu4xMHlYYnmSQC1nqBfjjjG39Oz
        yPdG+My4wWcpQzCHFNm7XttR/6ltweyy1HYL8ln4/+UujkYUO4MhF/w+/NKOIBmB
        5QQAqTlOalu+35fNAzjZZ3Ad7xILiPRdko3jJY+epVmFmPJ+uL6habRqWXWp0mEz
        KA6WL7/dXtB030UwU1vwt/yAyT4qlgP4b5zizvO9xfOnSJRlO/Z2AC0ZBDGNx0Rg
        QgzssP8YBNjj4tRESJkExK+5XO0Ar86Lj/ybUusrbr4Wdxa5xyzYXQ2AQkHQ821V
        EYchQF5azM57FxSUnWgSkF23qxLhbRw6fjKTL9xU0BYQHLPdh8mk7zk/SgGxiEO/
        7dXFlh8xPNzIIo5bEXOLGBObN8Q+TzzbhrmNmiJ2Yb9RbMqROSZAA6lXb3iBtQQJ
        wx0KK2j+I+Vx6hOTAbQajkDpHYDquv55iC4VzIlpfgaClp13RhyfaYjclFV51XRA
        IhuLRuzM7WcR6Hf53ZfsXhJF3h2sZJGm0PdwpvbUVP0k7YVopCMB5jZIntyLCcoc
        zGn+IxvbzRtoywCovmXy7VZBeX1uOLtDJ6RVoxTctesG5FLnRnt4dA2WOryKWnoQ
        ZPj1qPCKDXgprmcCAwEAAaOBjzCBjDAPBgNVHRMBAf8EBTADAQH/MA4GA1UdDwEB
        /wQEAwIBBjAdBgNVHQ4EFgQU9MxG7cWx6D5JayehSRgjZZmk9WgwSgYDVR0gBEMw
        QTA/BgRVHSAAMDcwNQYIKwYBBQUHAgEWKWh0dHA6Ly9pZ2Mtc2FudGUuZXNhbnRl
        LmdvdXYuZnIvUEMlMjBURVNUMA0GCSqGSIb3DQEBCwUAA4ICAQBdkCZ0TquFD7he
        2hQFqjjJoUU26mvGFC0RIKU3C+ZqIau5AGHQiSZrXYACyWZzsngTEcfb/EHKvJsk
        cZeXcuu9rpd6vjSkRES3qiNYUCXuC6PqrZNwbxPNVQc/9tlv4lw86ALvg9dRgH/p
        TsAAEua2Y/tcVZy8p87k5TR5yIv0emFHMs9Zpbvxnzl7L++ro1Tr0wr6Qdae8cTg
        kRuEqbLOKBMDdNkKaNsFxKWdFPFYsAqjqkmnrHaJzfmlHxI8ssNiW1pnrfjPu4pu
        nWpaYYhU0F5yB0gTe6EVXJIEr6Cw4BzxI3U0+9TQxVMROyP6pN8edH6P8e/qeRwV
        yMY51+EeaYoRwBrV+/JlmctYT7utE1lzQ/3/zNg992KBn6KNFIdLhb5ng8lbM0ML
        +JiJfeTDn00sK5/+YbeZuugCPYKMPtEn18GvlICZA3q7uBdOSck1EAUr9v2mYJbo
        Hn+DFqbNItF1PjMj/cNerx1rWRLrw4kVBTtRHmK5TrfTRtjMtDWSAst8uqyJYuAd
        yEXCIs0nVFcLbKFKMjUngpiGb4AgR9dkf3sG0yTlzj5x+lvyVUE+Jz5UdUmjPZpu
        NJMJLB4mKG9KNrMy6yHvmx5MxzJemvg1igLiR8huSb9fD1TdQ+RY3p85Kj0Vanbw
        XYB1oIqUh8zch+8WrKXffrlKjUkgCQ==
        -----END CERTIFICATE-----
        """

    /// `… OU=IGC-SANTE TEST, CN=TEST AC IGC-SANTE FORT PERSONNES`, issued by the root: CA, pathLen 0,
    /// keyCertSign + cRLSign. Shipped as Packaging/trust/test/TEST-AC-IGC-SANTE-FORT-PERSONNES.pem.
    package static let intermediateCertificatePEM = """
        -----BEGIN CERTIFICATE-----
        MIIGOTCCBCGgAwIBAgIQLnzViMLEBxg/Kpu/laxU6DANBgkqhkiG9w0BAQsFADB8
        MQswCQYDVQQGEwJGUjETMBEGA1UECgwKQVNJUC1TQU5URTEXMBUGA1UECwwOMDAw
        MiAxODc1MTI3NTExFzAVBgNVBAsMDklHQy1TQU5URSBURVNUMSYwJAYDVQQDDB1U
        RVNUIEFDIFJBQ0lORSBJR0MtU0FOVEUgRk9SVDAeFw0xMzA2MjUwMDAwMDBaFw0z
        MzA2MjUwMDAwMDBaMH8xCzAJBgNVBAYTAkZSMRMwEQYDVQQKDApBU0lQLVNBTlRF
        MRcwFQYDVQQLDA4wMDAyIDE4NzUxMjc1MTEXMBUGA1UECwwOSUdDLVNBTlRFIFRF
        U1QxKTAnBgNVBAMMIFRFU1QgQUMgSUdDLVNBTlRFIEZPUlQgUEVSU09OTkVTMIIC
        IjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAyimJazKmjKGLvOi5PztQXHQW
        2Bri7d/b2Mk0eD9k721Wbp0tWZ3GNDcvVzcf9qKIjoWnykc9KjlRgOA84YJQoA9k
        AcIRytMX22gRhLsRoeB1JxK7CRb/B17CIbdAZjxns51Dtt3vXUIc2V7iY3pTxcsW
        sHma4uMhZ9Ado3c80fvDD2Zhx/jR0IClCvoCaKWgbaWI07lY/7CvmEz8CI6qdN1h
        lbRKMhaf2icQ16FveURlAP67RqgL5As/UvynVou9uyiNsSzcp/g21JvecCIZX5h7
        RrzYfCy1Lje3feNR6Hyoe3YgmsOIlBAVQ9KXdzGjThra3AOD6MXcXxKQtXzgO83m
        Rq7QAxKa3dHzJm/Eh+jq5Tii1XOropbYSVxSyyZvXjqGtLot+jy+KGrR0ihDKMiB
        lFv8BoZXIj4xQ5uVMQ7KfW7A1Jxnxhq8yKFviwT/cXjOxmZ4MCm8v04lCg0VDxu4
        kwEXEjd8zxfNNTH9GoP2UxywVn2zAWIDPQaE28gF+pQ+675HDnPH85vBWNosDKEg
        1S6+MWa7PYJ2iwXIeEuVCZYR+kushlhiF+TuTYb6/ALFY6krskFRTK3MaBJ8Fu39
        bWpk2r1PbenzKePYqQmxoBGuCsARb7mR2LqlYQ2sfce8pnKafbWnHz4EdTq+cyeq
        vWrq1d0RJJXXuCCusmMCAwEAAaOBszCBsDASBgNVHRMBAf8ECDAGAQH/AgEAMA4G
        A1UdDwEB/wQEAwIBBjAdBgNVHQ4EFgQUzxBfgBbJTXjDiwaGuDGoLo1h4/gwHwYD
        VR0jBBgwFoAU9MxG7cWx6D5JayehSRgjZZmk9WgwSgYDVR0gBEMwQTA/BgRVHSAA
        MDcwNQYIKwYBBQUHAgEWKWh0dHA6Ly9pZ2Mtc2FudGUuZXNhbnRlLmdvdXYuZnIv
        UEMlMjBURVNUMA0GCSqGSIb3DQEBCwUAA4ICAQAd9ehh1Zvtkju0y+yXkV38R++p
        rDbdO9u1vm3fq0wLlfvP9tmhcBf+TLPtHDWoj53s5F3tlAiWd24XDoxQibDjn4Z5
        eEu77hOM+eFV7cEWUatBxCMDYGmEMyY0whDWquSZUOi8lDot3wnSv9rfRC7cG0k6
        FVMXOQYwWXu9gt6IKHuR/RKPUJEgwWI4pTrwVKMNcGn7vheDjlTSO3wKWkK4tSew
        lDmYSlqTgZZowdEBtlNKfMgoKUZ2ghX369IotIbFjmHpC5b6IZsWyRJFvTB9Fa1s
        MfSR5sWyd4Zo2QkxUH6wftJOwYuxug3cNhdRiMz/ECWxcoPM+7RfnISazAtzrGhR
        HLwqGBVnVQLt5Hdmwvk1atuvybZAjFH6epLfV/0Vn9cslqStdfaXWTVQzMoMKHHl
        t/dA7AWUQJ5qLoYkmFcCyd7dxRmhHkXT2OKOGz6Ay9j2di3zor4p4BWIH4kPKrE+
        szp4Ay6mxEmvcnY4S1gfSzD3Flcyi5EjHO1y7mtv21RjezfKZZnRaRIyJSTYEZ05
        ZKt1LZQorR+4e+tSPxEXYDuUi142DBBEVR05epe4UK/349hsWfF12zbCLQVSVnMG
        bvqA14k0G1eccpX7szYcAvZic/QKC2kd6FSdGpYjuijDLd4a3szUhL+LbcLYIlas
        zC/JnEfNrFCg7NQvVA==
        -----END CERTIFICATE-----
        """

    /// The intermediate's RSA-4096 private key (PKCS#1 PEM). PUBLIC TEST KEY: it signs every virtual card certificate.
    package static let intermediatePrivateKeyPEM = """
        -----BEGIN RSA PRIVATE KEY-----
        MIIJKAIBAAKCAgEAyimJazKmjKGLvOi5PztQXHQW2Bri7d/b2Mk0eD9k721Wbp0t
        WZ3GNDcvVzcf9qKIjoWnykc9KjlRgOA84YJQoA9kAcIRytMX22gRhLsRoeB1JxK7
        CRb/B17CIbdAZjxns51Dtt3vXUIc2V7iY3pTxcsWsHma4uMhZ9Ado3c80fvDD2Zh
        x/jR0IClCvoCaKWgbaWI07lY/7CvmEz8CI6qdN1hlbRKMhaf2icQ16FveURlAP67
        RqgL5As/UvynVou9uyiNsSzcp/g21JvecCIZX5h7RrzYfCy1Lje3feNR6Hyoe3Yg
        msOIlBAVQ9KXdzGjThra3AOD6MXcXxKQtXzgO83mRq7QAxKa3dHzJm/Eh+jq5Tii
        1XOropbYSVxSyyZvXjqGtLot+jy+KGrR0ihDKMiBlFv8BoZXIj4xQ5uVMQ7KfW7A
        1Jxnxhq8yKFviwT/cXjOxmZ4MCm8v04lCg0VDxu4kwEXEjd8zxfNNTH9GoP2Uxyw
        Vn2zAWIDPQaE28gF+pQ+675HDnPH85vBWNosDKEg1S6+MWa7PYJ2iwXIeEuVCZYR
        +kushlhiF+TuTYb6/ALFY6krskFRTK3MaBJ8Fu39bWpk2r1PbenzKePYqQmxoBGu
        CsARb7mR2LqlYQ2sfce8pnKafbWnHz4EdTq+cyeqvWrq1d0RJJXXuCCusmMCAwEA
        AQKCAgBQ6QXoQvnYgBFS1pvJnF4h2o6ICF65kKZHIeQfmlO15b85fyu22cgJfuqy
        D8x5o/xeeky4zwFCZHVjzJthMAw/u1ktwPPpBspeFE0qn8pDTPfmXv8/eJYyZ3Dw
        GI0sPdHNV8xRpIqX+w1bzDd0U/GyUIFwuQLN+tSUXX13PpI3gnlDsRjCdanXtp0X
        gw8yvdMy/xT/lAd0Mk1c+bbHX/4FztKvHVyypk5s+8SoYKKiWMbJ+qmOclRr/Tpn
        Zto8b6pMfUMUXZ2kllmvhwCkRWl9UqRIH+3O6P/Mkx0bw760+ytdWl5bQpXnmHZC
        Ukcvu8ydxm7ArqF9KK9115LWKDf/0Uhl4YncdSZaLtHURmH1MaI3wV1BGNgPxOvf
        5BQHwecy+iqsys1tVYgy441i2XQS0fmeT2PjLGJ0/9OnXXAR/p729r8UPI9vZnZv
        IZtclIIS1Y07l6/8Bl3oBsDJiflQ7YaF/6JZRTiErZ5Q8aO//v221UOrDKr1J8ZS
        r5rCifCXUPW3OD2DoVZUiW94P+00T9ZmW0bEUCS/AGAmj9aNe/VUpSv5XnncjUJ2
        uJVC1xuJEPLrSSe/0JGON9APPYPU0wJg6WyJZvBM4jzHuf6B8nMQuWYF5LjvSD8U
        FTXzBZjT4i1rwOlP5NaDtRSpJ9fjT5DnzYH0n7wpXhNlGDhq+QKCAQEA61u6NVSI
        atwsrFZBtvWBHZPARTiJ/t/3jAJTsygUN0PInHgAMRrixUChzOXdb1mTfS9oMwnd
        wRuTUoln+S7hBJZdFaeoR1+3DBzSw5uwkCXgyOMs80z3kvfuaNqv0WIIaL789Et1
        xTjyYUiFxZajrBAeceXp2d6QJGcbxD2ipgFITjKrKtGxYcvFrARVJDMbm+tRV9Ss
        S82sIqPO52J9Ljk9naORvuidRAkaH/H91hq5JV61FrNRvVTQscxBeRtJnafXq4iN
        M8HzNnICcSdsu10Yu0owq+8bdeGvZyZBj+HcLgt9ogjjw1ndHNGD8PeDXN5aWji1
        7dJvxQVQKovjywKCAQEA2+R9jVdx+n827PS3yOfSMl4sMSRrG2H02P6zH1i8DxS8
        yR35ovD6p9dQUwzPH5uh2tjpVAeP9JY/1ludpc+4qkwe2QqzAlLTYW4p+YqIzPdv
        7TAluy6ozRf6Jk77EhRGmrKJt3hTN2PSgK6jVMs15d+ek/oJFaujMyl5g7H2SOBk
        PK2N12zBqcXlQYqva2lNGwaEyNUJpttJNSklSGs/iD3/mw+g7JO0nkfc1/lOU2fa
        74QMJ7wHXVaB/jGiK3hUfwxwepl/UsXNFwLSKtT/LfOFtTh//c4NLjetBRqaO5OF
        hpG336R25tgtSAkLoCIX9v1UbRJbaj9atsPXrt+IyQKCAQBhE/zCcpOyQA7NJucE
        KE+Re5ga9S82Sfs5bNxJUYbFJNhicbzihEx1QCt88HNdsnz7bcp1AuTM+irSKIsS
        ZRu7YKoUfIsUpY5DGMB2nok9a+JD+jBYSq7zmABmj41luCHv0pdTzKxPJSYUqm1D
        CteH6T4ljMfgbcTWvxDc6O9lubGxT4T6rHOV+w8V3NOhktMYhP+QUtCek78kqpx1
        JFKt9j5L/2Pmctwra/Wyp4YkAfHMUDwxmNVmWs2aCL4YzgCXXtu+jRxw9Nb05iHL
        uo9G2SeSWQ+qW33gKa7HxSfVyTugYmz3oOMReMeTU3gwtGcirzRlcm7YIayof4CJ
        jBnxAoIBAQC/PEQEvFwf4qs+AMYlL5eavlPomSedNN/gKAJX7LAA3aQhtLP6hWE4
        vwTYdXdcodltnt+teLY1nMYAAsVkAvczA+iAEdIE30t+nHRc1aKLv1XUDd+Cnt2n
        IIco8d9gpcmRmFw096xHq8TSrQ7XG7PQK16aiwWDlzXjtNo9MnRihOQn8Tg+dhMn
        Nzhee+J7o6SvMEgi8UPnnSZZ2WLXTI6ASosVq83kccDPNuhV3DfGSbgaPdjkZZ5y
        Cl4bV8cVzxyNMaBQv1YAAo6OyKFHJt6WdAeAx5ZogN7tpvYOTkh8L5wcoHYtRbcy
        pCcdUuCNb5kv8LmP8jsWd+rIsCHPsBAhAoIBAH4EQFkFU4+Am/sXyBylInOzIGh6
        zWlW6c2I71WEUCZf/RnM0NNCfMlOpiIrHIlqYhEA9aaz6dSp30L6MKljG7r7alkb
        CWxnrSVcqzeDTXmSVv2q+AJfSJ8+VjvhzN5O81FzprbtQqCskbB6yF0epWxSCcn6
        7gYj5nS0Cpl/HY93Q3Fa4CPEx0436FNRmxRJgxJZOTNL27lNF4zAJBSQsMdDiDx0
        kEX97qhY+IcmtI5qY8bCiXmfcctSmRNcAc1Ugi1D8ETvKobAIqaUmoLtn5GsNF23
        HJTj0K1ISfYUVEGxzSbD+BI+6WDrLMXnFgAudg8Aqy7kq9CpDAM/Q6ZngF0=
        -----END RSA PRIVATE KEY-----
        """
}
