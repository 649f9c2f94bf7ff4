// API credentials of the store: listed (never a secret or a hash: the API has
// neither to give) and revoked.
import { api, storePath } from "./api.js"
import { badge, confirmInline, h, table, when } from "./dom.js"

export const renderCredentials = async (section, ctx) => {
  const panel = h("div", { class: "panel-slot" })
  const list = h("div", null)

  const revoke = async (credential) => {
    const sure = await confirmInline(panel, `Revoke ${credential.name} (${credential.clientId})? Callers using it are refused from now on; this cannot be undone.`, `Revoke ${credential.name}`)
    if (!sure) return
    try {
      await api.del(storePath(ctx.store, "credentials", credential.id))
      ctx.notify(`${credential.name} revoked.`)
      await load()
    } catch (error) {
      ctx.showError(error)
    }
  }

  const load = async () => {
    const { items } = await api.get(storePath(ctx.store, "credentials"))
    if (!ctx.isCurrent()) return
    list.replaceChildren(table("Credentials of this store", ["Name", "Client id", "Scopes", "State", "Expires", "Last used", "Created by", ""],
      items.map((credential) => [
        credential.name,
        h("code", null, credential.clientId),
        credential.scopes.join(", "),
        badge(credential.isActive ? "ACTIVE" : "REVOKED"),
        when(credential.expiresAt),
        when(credential.lastUsedAt),
        credential.createdBy,
        credential.isActive
          ? h("button", { type: "button", class: "danger", onclick: () => revoke(credential) }, `Revoke ${credential.name}`)
          : null
      ])))
  }

  section.append(panel, list)
  await load()
}
