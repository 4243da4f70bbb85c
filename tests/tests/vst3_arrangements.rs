//! VST3 bus arrangements and the controller's parameter read-back, checked as Steinberg's
//! validator checks them (issue 14), with a small test host on the `vst3` crate: for every
//! combination of main input, sidechain ("Dialogue") and main output of mono, stereo and 5.1,
//! `IAudioProcessor::setBusArrangements` either refuses (`kResultFalse`) or every bus then reads
//! back exactly what was asked. (nice-plug 0.4.2 compared the sidechain with the main bus'
//! channel count: a mono bed with a stereo sidechain was accepted and read back with a mono
//! sidechain. Fixed in vendor/nice-plug.) And Bypass set through
//! `IEditController::setParamNormalized` while processing reads back at once (nice-plug 0.4.2
//! dropped it until the host's own process call delivered it).

use std::ffi::{CStr, c_void};
use std::path::PathBuf;

use vst3::Steinberg::Vst::ParameterInfo_::ParameterFlags_::{kCanAutomate, kIsBypass};
use vst3::Steinberg::Vst::SpeakerArr::{k51, kMono, kStereo};
use vst3::Steinberg::Vst::{
    BusDirections_::kInput, BusDirections_::kOutput, IAudioProcessor, IAudioProcessorTrait,
    IComponent, IComponentTrait, IEditController, IEditControllerTrait, ParameterInfo,
    ProcessModes_::kRealtime, ProcessSetup, SpeakerArrangement, SymbolicSampleSizes_::kSample32,
};
use vst3::Steinberg::Vst::{IComponentHandler, IComponentHandlerTrait, ParamID, ParamValue};
use vst3::Steinberg::{
    IPluginBaseTrait, IPluginFactory, IPluginFactoryTrait, PClassInfo, kResultFalse, kResultOk,
};
use vst3::{Class, ComPtr, ComWrapper, Interface};

/// `target/bundled/Underscore.vst3/Contents/x86_64-linux/Underscore.so`, or `$UNDERSCORE_VST3`
/// (the bundle folder).
fn module_path() -> PathBuf {
    let bundle = match std::env::var_os("UNDERSCORE_VST3") {
        Some(p) if !p.is_empty() => PathBuf::from(p),
        _ => underscore_tests::workspace_root().join("target/bundled/Underscore.vst3"),
    };
    bundle.join(format!(
        "Contents/{}-linux/Underscore.so",
        std::env::consts::ARCH
    ))
}

fn name(a: SpeakerArrangement) -> &'static str {
    match a {
        x if x == kMono => "mono",
        x if x == kStereo => "stereo",
        x if x == k51 => "5.1",
        _ => "other",
    }
}

/// The VST3 module, loaded and entered (`ModuleEntry`) once for the test process and kept
/// loaded, like the CLAP tests pin theirs.
fn module() -> &'static libloading::Library {
    static MODULE: std::sync::OnceLock<libloading::Library> = std::sync::OnceLock::new();
    MODULE.get_or_init(|| {
        let path = module_path();
        assert!(
            path.is_file(),
            "no VST3 module at {} (cargo xtask bundle underscore --release)",
            path.display()
        );
        // SAFETY: loading the plugin under test runs its initialisers, as every test does.
        let lib = unsafe { libloading::Library::new(&path) }.expect("load the VST3 module");
        unsafe {
            if let Ok(entry) =
                lib.get::<unsafe extern "C" fn(*mut c_void) -> bool>(b"ModuleEntry\0")
            {
                assert!(entry(std::ptr::null_mut()), "ModuleEntry failed");
            }
        }
        lib
    })
}

/// The component and audio processor of a fresh Underscore instance.
fn processor() -> (ComPtr<IComponent>, ComPtr<IAudioProcessor>) {
    let lib = module();
    unsafe {
        let get_factory = lib
            .get::<unsafe extern "system" fn() -> *mut IPluginFactory>(b"GetPluginFactory\0")
            .expect("GetPluginFactory");
        let factory = ComPtr::from_raw(get_factory()).expect("a plugin factory");
        let mut component: Option<ComPtr<IComponent>> = None;
        for i in 0..factory.countClasses() {
            let mut info: PClassInfo = std::mem::zeroed();
            assert_eq!(factory.getClassInfo(i, &mut info), kResultOk);
            let category = CStr::from_ptr(info.category.as_ptr()).to_string_lossy();
            if category != "Audio Module Class" {
                continue;
            }
            let mut obj: *mut c_void = std::ptr::null_mut();
            let iid = IComponent::IID;
            let r = factory.createInstance(
                info.cid.as_ptr(),
                iid.as_ptr() as *const std::ffi::c_char,
                &mut obj,
            );
            assert_eq!(r, kResultOk, "createInstance");
            component = ComPtr::from_raw(obj as *mut IComponent);
        }
        let component = component.expect("an audio module class");
        assert_eq!(component.initialize(std::ptr::null_mut()), kResultOk);
        let processor = component
            .cast::<IAudioProcessor>()
            .expect("IAudioProcessor");
        (component, processor)
    }
}

#[test]
fn every_accepted_bus_arrangement_reads_back_as_requested() {
    let (component, processor) = processor();
    let kinds = [kMono, kStereo, k51];
    let (mut accepted, mut refused, mut wrong) = (Vec::new(), 0, Vec::new());
    for &main_in in &kinds {
        for &key in &kinds {
            for &main_out in &kinds {
                let mut ins = [main_in, key];
                let mut outs = [main_out];
                let r = unsafe {
                    processor.setBusArrangements(ins.as_mut_ptr(), 2, outs.as_mut_ptr(), 1)
                };
                let asked = format!("{} + {} -> {}", name(main_in), name(key), name(main_out));
                if r == kResultFalse {
                    refused += 1;
                    continue;
                }
                assert_eq!(r, kResultOk, "{asked}: unexpected result {r}");
                let mut read = [0 as SpeakerArrangement; 3];
                unsafe {
                    assert_eq!(
                        processor.getBusArrangement(kInput as i32, 0, &mut read[0]),
                        kResultOk
                    );
                    assert_eq!(
                        processor.getBusArrangement(kInput as i32, 1, &mut read[1]),
                        kResultOk
                    );
                    assert_eq!(
                        processor.getBusArrangement(kOutput as i32, 0, &mut read[2]),
                        kResultOk
                    );
                }
                if read != [main_in, key, main_out] {
                    wrong.push(format!(
                        "{asked}: accepted, reads back {} + {} -> {}",
                        name(read[0]),
                        name(read[1]),
                        name(read[2])
                    ));
                }
                accepted.push(asked);
            }
        }
    }
    println!(
        "accepted {}: {accepted:?}; refused {refused}",
        accepted.len()
    );
    assert_eq!(wrong, Vec::<String>::new());
    // The seven layouts the plugin declares are all reachable: bed in = bed out.
    assert_eq!(accepted.len(), 7, "{accepted:?}");
    assert_eq!(refused, 27 - 7);
    unsafe {
        component.terminate();
    }
}

/// The edit controller of a single-component plugin (on the component itself).
fn controller(component: &ComPtr<IComponent>) -> ComPtr<IEditController> {
    component
        .cast::<IEditController>()
        .expect("a single-component plugin: IEditController on the component")
}

/// Every parameter's info, through the controller.
fn parameter_infos(controller: &ComPtr<IEditController>) -> Vec<ParameterInfo> {
    unsafe {
        (0..controller.getParameterCount())
            .map(|i| {
                let mut info: ParameterInfo = std::mem::zeroed();
                assert_eq!(controller.getParameterInfo(i, &mut info), kResultOk);
                info
            })
            .collect()
    }
}

/// `setupProcessing` (48 kHz, 32-bit float, up to 512 frames) and `setActive(true)`.
fn set_up_and_activate(component: &ComPtr<IComponent>, processor: &ComPtr<IAudioProcessor>) {
    let mut setup = ProcessSetup {
        processMode: kRealtime as i32,
        symbolicSampleSize: kSample32 as i32,
        maxSamplesPerBlock: 512,
        sampleRate: 48_000.0,
    };
    unsafe {
        assert_eq!(processor.setupProcessing(&mut setup), kResultOk);
        assert_eq!(component.setActive(1), kResultOk);
    }
}

#[test]
fn bypass_set_through_the_controller_while_processing_reads_back() {
    let (component, processor) = processor();
    let controller = controller(&component);
    let bypass = parameter_infos(&controller)
        .into_iter()
        .find(|info| info.flags & kIsBypass != 0)
        .expect("a parameter flagged kIsBypass")
        .id;
    set_up_and_activate(&component, &processor);
    unsafe {
        assert_eq!(processor.setProcessing(1), kResultOk);
        for value in [1.0, 0.0, 1.0] {
            assert_eq!(controller.setParamNormalized(bypass, value), kResultOk);
            let read = controller.getParamNormalized(bypass);
            println!("Bypass set to {value} while processing, reads back {read}");
            assert_eq!(read, value);
        }
        // Nothing processed: when processing stops, the value the controller was told last
        // becomes the parameter's own (also what a saved state holds).
        processor.setProcessing(0);
        component.setActive(0);
        assert_eq!(controller.getParamNormalized(bypass), 1.0);
        assert_eq!(controller.setParamNormalized(bypass, 0.0), kResultOk);
        assert_eq!(controller.getParamNormalized(bypass), 0.0);
        component.terminate();
    }
}

/// A VST3 parameter's title (UTF-16, zero-terminated).
fn title(info: &ParameterInfo) -> String {
    let units: Vec<u16> = info.title.iter().copied().take_while(|&c| c != 0).collect();
    String::from_utf16_lossy(&units)
}

#[test]
fn lookahead_and_mode_cannot_be_automated_in_vst3() {
    let (component, _processor) = processor();
    let controller = controller(&component);
    let infos = parameter_infos(&controller);
    let automatable = |name: &str| {
        let info = infos
            .iter()
            .find(|i| title(i) == name)
            .unwrap_or_else(|| panic!("no parameter {name}"));
        info.flags & kCanAutomate != 0
    };
    assert!(
        !automatable("Lookahead"),
        "Lookahead is flagged kCanAutomate"
    );
    assert!(!automatable("Mode"), "Mode is flagged kCanAutomate");
    assert!(automatable("Depth"), "Depth must stay automatable");
    unsafe {
        component.terminate();
    }
}

/// A host's component handler that counts `restartComponent` calls.
struct CountingHandler {
    restarts: std::sync::atomic::AtomicU32,
}

impl Class for CountingHandler {
    type Interfaces = (IComponentHandler,);
}

impl IComponentHandlerTrait for CountingHandler {
    unsafe fn beginEdit(&self, _id: ParamID) -> vst3::Steinberg::tresult {
        kResultOk
    }
    unsafe fn performEdit(&self, _id: ParamID, _value: ParamValue) -> vst3::Steinberg::tresult {
        kResultOk
    }
    unsafe fn endEdit(&self, _id: ParamID) -> vst3::Steinberg::tresult {
        kResultOk
    }
    unsafe fn restartComponent(&self, _flags: i32) -> vst3::Steinberg::tresult {
        self.restarts
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        kResultOk
    }
}

/// The VST3 side of a normal load. The latency is right when Steinberg's workflow reads it
/// (after `setActive(true)`); one `restartComponent(kLatencyChanged)` follows the first
/// activation, on purpose: JUCE-based hosts read the latency before `setActive(true)` and take
/// the new value from that call (without it pedalboard kept the previous sample rate's latency;
/// vendor/nice-plug/PATCHES.md). The CLAP side asks for no restart at all (conformance.rs).
#[test]
fn a_normal_load_reports_the_latency_after_activation_and_restarts_once() {
    let (component, processor) = processor();
    let controller = controller(&component);
    let handler = ComWrapper::new(CountingHandler {
        restarts: std::sync::atomic::AtomicU32::new(0),
    });
    let handler_ptr = handler
        .to_com_ptr::<IComponentHandler>()
        .expect("IComponentHandler");
    unsafe {
        assert_eq!(
            controller.setComponentHandler(handler_ptr.as_ptr()),
            kResultOk
        );
        // The VST3 workflow: setupProcessing, setActive(true), getLatencySamples, setProcessing.
        set_up_and_activate(&component, &processor);
        let latency = processor.getLatencySamples();
        assert_eq!(processor.setProcessing(1), kResultOk);
        processor.setProcessing(0);
        component.setActive(0);
        let restarts = handler.restarts.load(std::sync::atomic::Ordering::SeqCst);
        println!(
            "latency after setActive(true): {latency} samples; restartComponent calls: {restarts}"
        );
        assert_eq!(latency, 4_800, "Lookahead 100 ms at 48 kHz");
        assert_eq!(restarts, 1, "restartComponent calls on a normal load");
        controller.setComponentHandler(std::ptr::null_mut());
        component.terminate();
    }
}
