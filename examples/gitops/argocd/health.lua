-- Argo CD health of sftp.dev objects (SftpGateway, SftpUser), from the conditions the operator
-- writes in the kstatus convention: Stalled=True needs a person (Degraded), Reconciling=True is
-- work under way (Progressing), Ready=True is Healthy; Ready=False with neither is a state chosen
-- in the spec (a disabled or expired user: Suspended).
local hs = {status = "Progressing", message = "Waiting for the sftp operator"}
if obj.status == nil or obj.status.conditions == nil then
  return hs
end
if obj.metadata ~= nil and obj.metadata.generation ~= nil and obj.status.observedGeneration ~= nil
    and obj.status.observedGeneration < obj.metadata.generation then
  hs.message = "The sftp operator has not looked at the latest change yet"
  return hs
end
local ready, reconciling, stalled
for _, c in ipairs(obj.status.conditions) do
  if c.type == "Ready" then
    ready = c
  elseif c.type == "Reconciling" and c.status == "True" then
    reconciling = c
  elseif c.type == "Stalled" and c.status == "True" then
    stalled = c
  end
end
local function say(c)
  return (c.reason or "") .. ": " .. (c.message or "")
end
if stalled ~= nil then
  hs.status = "Degraded"
  hs.message = say(stalled)
elseif reconciling ~= nil then
  hs.status = "Progressing"
  hs.message = say(reconciling)
elseif ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = ready.message or ""
elseif ready ~= nil then
  hs.status = "Suspended"
  hs.message = say(ready)
end
return hs
