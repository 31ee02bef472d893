import { exportJWK, generateKeyPair, type JWK, type JWTPayload, SignJWT } from "jose";

/** An identity provider made in a Node test: an ES256 key pair, its public JWKS and a token signer. */
export class NodeIdp {
  private constructor(
    readonly issuer: string,
    readonly kid: string,
    private readonly privateKey: CryptoKey,
    readonly publicJwk: JWK,
  ) {}

  static async create(issuer = `https://${crypto.randomUUID()}.idp.example`): Promise<NodeIdp> {
    const { publicKey, privateKey } = await generateKeyPair("ES256", { extractable: true });
    const kid = `es-${crypto.randomUUID().slice(0, 8)}`;
    return new NodeIdp(issuer, kid, privateKey, { ...(await exportJWK(publicKey)), kid, alg: "ES256", use: "sig" });
  }

  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  token(claims: JWTPayload = {}, expiresIn: string | number = "10m"): Promise<string> {
    return new SignJWT({ sub: "user-1", ...claims })
      .setProtectedHeader({ alg: "ES256", kid: this.kid })
      .setIssuer(this.issuer)
      .setIssuedAt()
      .setExpirationTime(expiresIn)
      .sign(this.privateKey);
  }
}
