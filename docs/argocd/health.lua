-- Argo CD health check for EmailAuthenticatorStage, FlowBinding and EmailDevice (emailauth.dev),
-- the same for all three kinds. It reads status as Flux's kstatus does, with two stricter steps:
-- no status, or no Ready condition yet, is Progressing (the operator writes both on its first
-- reconcile), never Healthy.
local hs = { status = "Progressing", message = "Waiting for the operator to reconcile" }

if obj.metadata ~= nil and obj.metadata.deletionTimestamp ~= nil then
  hs.message = "Being deleted"
  return hs
end
if obj.status == nil then
  return hs
end

local generation = obj.metadata and obj.metadata.generation
local observed = obj.status.observedGeneration
if generation ~= nil and observed ~= generation then
  hs.message = "Waiting for the operator to observe generation " .. tostring(generation)
  return hs
end

local function describe(c, fallback)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  if c.reason ~= nil and c.reason ~= "" then
    return c.reason
  end
  return fallback
end

local ready = nil
if obj.status.conditions ~= nil then
  for _, c in ipairs(obj.status.conditions) do
    if c.type == "Stalled" and c.status == "True" then
      hs.status = "Degraded"
      hs.message = describe(c, "Stalled")
      return hs
    end
    if c.type == "Reconciling" and c.status == "True" then
      hs.message = describe(c, "Reconciling")
      return hs
    end
    if c.type == "Ready" then
      ready = c
    end
  end
end

if ready ~= nil and ready.status == "True" then
  hs.status = "Healthy"
  hs.message = describe(ready, "Ready")
elseif ready ~= nil then
  hs.message = describe(ready, "Not ready")
end
return hs
