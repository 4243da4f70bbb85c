-- Builds a mixer's session for tests/hosts/test_ardour.py, run by `ardour7-lua` (headless,
-- "None (Dummy)" backend):
--   ardour7-lua build_session.lua <session-dir> <session-name> <direct|send>
-- Two stereo tracks, "Music" and "Dialogue" (their regions are added to the saved XML
-- afterwards: Ardour 7.3 has no headless import). Underscore's VST3 is inserted pre-fader on
-- Music and its sidechain input is fed by the Dialogue track, either straight from the track's
-- outputs ("direct") or through a post-fader send ("send"). The Dialogue track does not reach
-- the master, so an export of the master is the ducked music alone.
local dir, name, routing = arg[1], arg[2], arg[3]
assert(dir and name and (routing == "direct" or routing == "send"),
       "usage: build_session.lua <session-dir> <session-name> <direct|send>")

assert(create_session(dir, name, 48000), "create_session failed")

local function stereo_track(tname)
  local tl = Session:new_audio_track(2, 2, nil, 1, tname, ARDOUR.PresentationInfo.max_order,
                                     ARDOUR.TrackMode.Normal, true)
  assert(tl:size() == 1, "new_audio_track " .. tname)
  local route = Session:route_by_name(tname)
  assert(not route:isnil(), "no route " .. tname)
  -- Tracks are auto-connected to the (dummy) capture ports: play the disk only.
  route:input():disconnect_all(nil)
  return route
end
local music = stereo_track("Music")
local dialogue = stereo_track("Dialogue")

-- Plugins can only be listed or created once a session exists (earlier crashes in 7.3).
local fx = ARDOUR.LuaAPI.new_plugin(Session, "Underscore", ARDOUR.PluginType.VST3, "")
assert(not fx:isnil(), "Ardour does not know Underscore's VST3 (plugin cache?)")
assert(music:add_processor_by_index(fx, 0, nil, true) == 0, "add_processor_by_index failed")
assert(music:add_sidechain(fx), "add_sidechain failed")
local sc = fx:to_plugininsert():sidechain_input()
assert(not sc:isnil(), "no sidechain input")
local n_sc = sc:n_ports():n_audio()
assert(n_sc > 0, "sidechain has no audio port")

-- The dialogue never reaches the master.
dialogue:output():disconnect_all(nil)

local source
if routing == "direct" then
  source = dialogue:output()
else
  -- new_send(Session, route, nil) crashes in 7.3; before main_outs = post-fader.
  local proc = ARDOUR.LuaAPI.new_send(Session, dialogue, dialogue:main_outs())
  assert(not proc:isnil(), "new_send failed")
  local send = proc:to_send()
  send:gain_control():set_value(1.0, PBD.GroupControlDisposition.NoGroup)
  source = send:output()
  source:disconnect_all(nil)
  print("SEND", proc:name(), proc:active(), send:gain_control():get_value())
end
local n_src = source:n_ports():n_audio()
for c = 0, n_sc - 1 do
  local port = source:audio(c % n_src)
  assert(sc:connect(sc:audio(c), port:name(), nil) == 0, "cannot connect " .. port:name())
  print("CONNECT", sc:audio(c):name(), "<-", port:name())
end

print("LATENCY", fx:signal_latency())
Session:save_state("", false, false, false, false, false)
close_session()
print("BUILD_OK")
