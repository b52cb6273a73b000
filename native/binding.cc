/*
 * binding.cc -- Node-API registration of class Task and the module's functions
 * (harness/tracer/native.ts)
 *
 * Converts JavaScript arguments to the plain structs of task.h and Stop back
 * to objects; every failure becomes a JavaScript Error with a one-line
 * message. No ptrace here: Task (task.h) owns the tracee.
 */
#include <napi.h>

#include <cmath>
#include <cstring>
#include <iterator>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nonzero_units.h"
#include "page_cache.h"
#include "sentinel.h"
#include "subreaper.h"
#include "task.h"

namespace {

/* ArgError -- a JavaScript argument of the wrong shape (TypeError) */
struct ArgError {
	std::string message;
};

Napi::Value
field(const Napi::Object &object, const char *name)
{
	return object.Get(name);
}

std::string
to_string(const Napi::Value &value, const char *what)
{
	if (!value.IsString())
		throw ArgError{std::string(what) + " must be a string"};
	return value.As<Napi::String>().Utf8Value();
}

/* integral -- a number that must be a whole one (every number pmfit passes) */
double
integral(double number, const char *what)
{
	if (!std::isfinite(number) || number != std::floor(number))
		throw ArgError{std::string(what) + " must be an integer"};
	return number;
}

double
to_number(const Napi::Value &value, const char *what)
{
	if (!value.IsNumber())
		throw ArgError{std::string(what) + " must be a number"};
	return integral(value.As<Napi::Number>().DoubleValue(), what);
}

int64_t
to_int64(double number, const char *what)
{
	if (number < -9223372036854775808.0 || number >= 9223372036854775808.0)
		throw ArgError{std::string(what) + " is out of range"};
	return (int64_t)number;
}

int64_t
to_int64(const Napi::Value &value, const char *what)
{
	return to_int64(to_number(value, what), what);
}

uint64_t
to_uint64(double number, const char *what)
{
	if (number < 0 || number >= 18446744073709551616.0)
		throw ArgError{std::string(what) + " is out of range"};
	return (uint64_t)number;
}

uint64_t
to_uint64(const Napi::Value &value, const char *what)
{
	return to_uint64(to_number(value, what), what);
}

int
to_int(double number, const char *what)
{
	int64_t whole = to_int64(number, what);
	if (whole < INT32_MIN || whole > INT32_MAX)
		throw ArgError{std::string(what) + " is out of range"};
	return (int)whole;
}

int
to_int(const Napi::Value &value, const char *what)
{
	return to_int(to_number(value, what), what);
}

Napi::Object
to_object(const Napi::Value &value, const char *what)
{
	if (!value.IsObject())
		throw ArgError{std::string(what) + " must be an object"};
	return value.As<Napi::Object>();
}

Napi::Array
to_array(const Napi::Value &value, const char *what)
{
	if (!value.IsArray())
		throw ArgError{std::string(what) + " must be an array"};
	return value.As<Napi::Array>();
}

std::vector<std::string>
to_strings(const Napi::Value &value, const char *what)
{
	Napi::Array array = to_array(value, what);
	std::vector<std::string> strings;
	for (uint32_t i = 0; i < array.Length(); i++)
		strings.push_back(to_string(array.Get(i), what));
	return strings;
}

Napi::Number
number(Napi::Env env, double value)
{
	return Napi::Number::New(env, value);
}

const char *
kind_name(pmfit::StopKind kind)
{
	switch (kind) {
	case pmfit::StopKind::Exited:
		return "exited";
	case pmfit::StopKind::Signaled:
		return "signaled";
	case pmfit::StopKind::StopAt:
		return "stopAt";
	case pmfit::StopKind::MaxSteps:
		return "maxSteps";
	case pmfit::StopKind::Yield:
		return "yield";
	case pmfit::StopKind::Blocked:
		return "blocked";
	case pmfit::StopKind::Decode:
		return "decode";
	case pmfit::StopKind::Syscall:
		return "syscall";
	case pmfit::StopKind::SyscallDone:
		return "syscallDone";
	case pmfit::StopKind::RegionBegin:
		return "regionBegin";
	case pmfit::StopKind::RegionEnd:
		return "regionEnd";
	case pmfit::StopKind::Buffer:
		return "buffer";
	case pmfit::StopKind::Unsupported:
		return "unsupported";
	}
	return "unknown";
}

/* stop_object -- NativeStop: only the fields of its kind */
Napi::Object
stop_object(Napi::Env env, const pmfit::Stop &stop)
{
	using pmfit::StopKind;
	Napi::Object object = Napi::Object::New(env);
	object.Set("kind", kind_name(stop.kind));
	object.Set("index", number(env, (double)stop.index));
	object.Set("thread", number(env, stop.thread));
	switch (stop.kind) {
	case StopKind::Exited:
		object.Set("code", number(env, stop.code));
		object.Set("inRegion", Napi::Boolean::New(env, stop.in_region));
		break;
	case StopKind::Signaled:
		object.Set("signal", number(env, stop.signal));
		object.Set("inRegion", Napi::Boolean::New(env, stop.in_region));
		object.Set("address", number(env, (double)stop.address.as_int()));
		break;
	case StopKind::MaxSteps:
		object.Set("address", number(env, (double)stop.address.as_int()));
		break;
	case StopKind::Yield:
	case StopKind::Blocked:
		object.Set("inRegion", Napi::Boolean::New(env, stop.in_region));
		break;
	case StopKind::Decode:
		object.Set("address", number(env, (double)stop.address.as_int()));
		object.Set("bytes", Napi::Buffer<uint8_t>::Copy(env, stop.bytes.data(), stop.bytes.size()));
		if (stop.ahead)
			object.Set("ahead", Napi::Boolean::New(env, true));
		break;
	case StopKind::Syscall: {
		object.Set("address", number(env, (double)stop.address.as_int()));
		object.Set("nr", number(env, (double)stop.nr));
		Napi::Array args = Napi::Array::New(env, 6);
		for (uint32_t i = 0; i < 6; i++)
			args.Set(i, number(env, (double)stop.args[i]));
		object.Set("args", args);
		break;
	}
	case StopKind::SyscallDone:
		object.Set("result", number(env, (double)stop.result));
		break;
	case StopKind::Unsupported:
		object.Set("what", stop.what);
		object.Set("inRegion", Napi::Boolean::New(env, stop.in_region));
		object.Set("address", number(env, (double)stop.address.as_int()));
		break;
	case StopKind::StopAt:
		object.Set("address", number(env, (double)stop.address.as_int()));
		break;
	case StopKind::RegionBegin:
	case StopKind::RegionEnd:
	case StopKind::Buffer:
		break;
	}
	return object;
}

/* ObjectFields -- a NativeInsnInfo's or NativeMemOperand's fields, from
 * its JavaScript object */
class ObjectFields {
public:
	ObjectFields(const Napi::Value &value, const char *what) : object_(to_object(value, what)) {}

	/* number -- the field's integer, or none when it is absent */
	std::optional<double>
	number(const char *name, const char *what) const
	{
		Napi::Value value = object_.Get(name);
		if (value.IsUndefined())
			return std::nullopt;
		return to_number(value, what);
	}

	/* operands -- how many operands `writes` holds */
	uint32_t
	operands(const char *name, const char *what) const
	{
		return to_array(object_.Get(name), what).Length();
	}

	/* operand -- operand i of `writes`, or the one operand `via` */
	ObjectFields
	operand(const char *name, uint32_t i) const
	{
		Napi::Value value = object_.Get(name);
		return ObjectFields(value.IsArray() ? value.As<Napi::Array>().Get(i) : value, "write operand");
	}

private:
	Napi::Object object_;
};

/* The fields of a packed record, in their order (native.ts PACKED_INSN,
 * PACKED_OPERAND) */
const char *const INSN_FIELDS[] = {"length", "flags",  "writes", "flow",     "target",
				   "via",    "viaReg", "rspAdd", "gprWrites"};
const char *const OPERAND_FIELDS[] = {"base", "index", "scale", "disp", "size",	 "seg",
				      "kind", "reg",   "vec",	"elem", "count", "indexElem"};

/* PackedFields -- the same fields packed (native.ts packInsns): a record is
 * the mask of the fields present (bit i: field i of its table), their values
 * in the table's order, then an instruction's operands, each a record: the
 * `writes` value many write operands, then `via`'s one. Each number is
 * checked as its object's field would be when it is read */
class PackedFields {
public:
	/* the record at `at` of `data`; `at` is moved past it */
	PackedFields(const std::vector<double> &data, size_t &at, bool insn)
	    : names_(insn ? INSN_FIELDS : OPERAND_FIELDS),
	      count_(insn ? std::size(INSN_FIELDS) : std::size(OPERAND_FIELDS))
	{
		const uint64_t mask = to_uint64(integral(next(data, at, "packed field mask"), "packed field mask"),
						"packed field mask");
		if (mask >> count_)
			throw ArgError{"packed field mask is out of range"};
		for (size_t i = 0; i < count_; i++)
			values_[i] = (mask >> i) & 1 ? std::optional<double>(next(data, at, names_[i])) : std::nullopt;
		if (!insn)
			return;
		const double writes = integral(values_[index("writes")].value_or(0), "instruction writes");
		const double via = integral(values_[index("via")].value_or(0), "instruction via");
		if (writes < 0 || writes > (double)data.size() || via < 0 || via > 1)
			throw ArgError{"packed operand count is out of range"};
		for (double i = 0; i < writes; i++)
			writes_.emplace_back(data, at, false);
		for (double i = 0; i < via; i++)
			via_.emplace_back(data, at, false);
	}

	std::optional<double>
	number(const char *name, const char *what) const
	{
		const std::optional<double> value = values_[index(name)];
		return value ? std::optional<double>(integral(*value, what)) : std::nullopt;
	}

	uint32_t
	operands(const char *name, const char *what) const
	{
		std::optional<double> count = number(name, what);
		if (!count)
			throw ArgError{std::string(what) + " must be an array"};
		return (uint32_t)*count;
	}

	const PackedFields &
	operand(const char *name, uint32_t i) const
	{
		const std::vector<PackedFields> &records = std::strcmp(name, "via") == 0 ? via_ : writes_;
		if (i >= records.size())
			throw ArgError{"write operand must be an object"};
		return records[i];
	}

private:
	static double
	next(const std::vector<double> &data, size_t &at, const char *what)
	{
		if (at >= data.size())
			throw ArgError{std::string("packed instruction infos end before ") + what};
		return data[at++];
	}

	size_t
	index(const char *name) const
	{
		for (size_t i = 0; i < count_; i++)
			if (std::strcmp(names_[i], name) == 0)
				return i;
		throw ArgError{std::string("no packed field ") + name};
	}

	const char *const *names_;
	size_t count_;
	std::optional<double> values_[std::size(OPERAND_FIELDS)];
	std::vector<PackedFields> writes_;
	std::vector<PackedFields> via_;
};

/* required -- a field that must be there */
template <typename Fields>
double
required(const Fields &fields, const char *name, const char *what)
{
	std::optional<double> value = fields.number(name, what);
	if (!value)
		throw ArgError{std::string(what) + " must be a number"};
	return *value;
}

template <typename Fields>
pmfit::MemOperand
to_operand(const Fields &fields)
{
	pmfit::MemOperand op;
	op.base = (uint8_t)to_int(required(fields, "base", "operand base"), "operand base");
	op.index = (uint8_t)to_int(required(fields, "index", "operand index"), "operand index");
	op.scale = (uint8_t)to_int(required(fields, "scale", "operand scale"), "operand scale");
	op.disp = to_int64(required(fields, "disp", "operand disp"), "operand disp");
	op.size = (uint32_t)to_uint64(required(fields, "size", "operand size"), "operand size");
	op.seg = (uint8_t)to_int(required(fields, "seg", "operand seg"), "operand seg");
	/* absent for MemKind.Plain */
	std::optional<double> kind = fields.number("kind", "operand kind");
	if (!kind)
		return op;
	op.kind = (uint8_t)to_int(*kind, "operand kind");
	const char *names[] = {"reg", "vec", "elem", "count", "indexElem"};
	uint8_t *slots[] = {&op.reg, &op.vec, &op.elem, &op.count, &op.index_elem};
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		std::optional<double> value = fields.number(names[i], names[i]);
		int number = value ? to_int(*value, names[i]) : 0;
		if (number < 0 || number > 255)
			throw ArgError{std::string("operand ") + names[i] + " is out of range"};
		*slots[i] = (uint8_t)number;
	}
	return op;
}

/* to_insn -- NativeInsnInfo, from its object or packed; an absent `flow` is
 * FLOW_OTHER (the fence hunt follows it nowhere) */
template <typename Fields>
pmfit::InsnInfo
to_insn(const Fields &fields)
{
	pmfit::InsnInfo insn;
	insn.length = (uint32_t)to_uint64(required(fields, "length", "instruction length"), "instruction length");
	insn.flags = (uint32_t)to_uint64(required(fields, "flags", "instruction flags"), "instruction flags");
	const uint32_t writes = fields.operands("writes", "instruction writes");
	for (uint32_t i = 0; i < writes; i++)
		insn.writes.push_back(to_operand(fields.operand("writes", i)));
	std::optional<double> rsp_add = fields.number("rspAdd", "instruction rspAdd");
	if (rsp_add)
		insn.rsp_add = to_int(*rsp_add, "instruction rspAdd");
	std::optional<double> gpr_writes = fields.number("gprWrites", "instruction gprWrites");
	if (gpr_writes) {
		const uint64_t bits = to_uint64(*gpr_writes, "instruction gprWrites");
		if (bits >> (pmfit::REG_COUNT - 1))
			throw ArgError{"instruction gprWrites is out of range"};
		insn.gpr_writes = (uint32_t)bits;
	}
	std::optional<double> flow = fields.number("flow", "instruction flow");
	if (flow) {
		const int number = to_int(*flow, "instruction flow");
		if (number < pmfit::FLOW_NEXT || number > pmfit::FLOW_INDIRECT)
			throw ArgError{"instruction flow is out of range"};
		insn.flow = (uint8_t)number;
		if (insn.flow == pmfit::FLOW_BRANCH || insn.flow == pmfit::FLOW_JUMP || insn.flow == pmfit::FLOW_CALL)
			insn.target = to_uint64(required(fields, "target", "instruction target"), "instruction target");
		if (insn.flow == pmfit::FLOW_INDIRECT) {
			std::optional<double> reg = fields.number("viaReg", "instruction viaReg");
			if (!reg) {
				insn.via = to_operand(fields.operand("via", 0));
				if (insn.via.kind != pmfit::MEM_PLAIN || insn.via.size != 8)
					throw ArgError{"instruction via must be a plain 8-byte operand"};
			} else {
				const int r = to_int(*reg, "instruction viaReg");
				if (r <= pmfit::REG_NONE || r >= pmfit::REG_COUNT)
					throw ArgError{"instruction viaReg is out of range"};
				insn.via_reg = (uint8_t)r;
			}
		}
	}
	return insn;
}

/* to_packed_insns -- NativeInsnInfo[] packed into a Buffer (native.ts
 * packInsns): one crossing for a whole run, where its objects cost a few
 * field by field */
std::vector<pmfit::InsnInfo>
to_packed_insns(const Napi::Value &value)
{
	if (!value.IsBuffer())
		throw ArgError{"packed instruction infos must be a Buffer"};
	Napi::Buffer<uint8_t> buffer = value.As<Napi::Buffer<uint8_t>>();
	if (buffer.Length() % sizeof(double) != 0)
		throw ArgError{"packed instruction infos must be whole numbers of 8 bytes"};
	/* copied: a Buffer's bytes need not be aligned for doubles */
	std::vector<double> data(buffer.Length() / sizeof(double));
	std::memcpy(data.data(), buffer.Data(), buffer.Length());
	std::vector<pmfit::InsnInfo> insns;
	for (size_t at = 0; at < data.size();)
		insns.push_back(to_insn(PackedFields(data, at, true)));
	return insns;
}

/* guard -- run body, turning C++ failures into a pending JS exception */
template <typename Body>
Napi::Value
guard(Napi::Env env, Body body)
{
	try {
		return body();
	} catch (const ArgError &err) {
		Napi::TypeError::New(env, err.message).ThrowAsJavaScriptException();
	} catch (const pmfit::TaskError &err) {
		Napi::Error::New(env, err.what()).ThrowAsJavaScriptException();
	} catch (const std::bad_alloc &) {
		Napi::Error::New(env, "out of memory").ThrowAsJavaScriptException();
	} catch (const std::exception &err) {
		Napi::Error::New(env, err.what()).ThrowAsJavaScriptException();
	}
	return env.Undefined();
}

class TaskWrap : public Napi::ObjectWrap<TaskWrap> {
public:
	static Napi::Function
	Define(Napi::Env env)
	{
		return DefineClass(env, "Task",
				   {
					   InstanceAccessor<&TaskWrap::Pid>("pid"),
					   InstanceMethod<&TaskWrap::SetBreakpoints>("setBreakpoints"),
					   InstanceMethod<&TaskWrap::SetFlushSites>("setFlushSites"),
					   InstanceMethod<&TaskWrap::SetPmRanges>("setPmRanges"),
					   InstanceMethod<&TaskWrap::SetInstruction>("setInstruction"),
					   InstanceMethod<&TaskWrap::SetFlows>("setFlows"),
					   InstanceMethod<&TaskWrap::KnowRun>("knowRun"),
					   InstanceMethod<&TaskWrap::Resume>("resume"),
					   InstanceMethod<&TaskWrap::StepSyscall>("stepSyscall"),
					   InstanceMethod<&TaskWrap::TakeEvents>("takeEvents"),
					   InstanceMethod<&TaskWrap::ReadMemory>("readMemory"),
					   InstanceMethod<&TaskWrap::Kill>("kill"),
					   InstanceMethod<&TaskWrap::GuardRefusals>("guardRefusals"),
					   InstanceMethod<&TaskWrap::FastStops>("fastStops"),
					   InstanceMethod<&TaskWrap::Forks>("forks"),
					   InstanceMethod<&TaskWrap::SetScheduleSeed>("setScheduleSeed"),
					   InstanceMethod<&TaskWrap::WatchWrites>("watchWrites"),
					   InstanceMethod<&TaskWrap::TakeWrittenPages>("takeWrittenPages"),
					   InstanceMethod<&TaskWrap::Stack>("stack"),
				   });
	}

	explicit TaskWrap(const Napi::CallbackInfo &info) : Napi::ObjectWrap<TaskWrap>(info)
	{
		guard(info.Env(), [&]() -> Napi::Value {
			Napi::Object object = to_object(info[0], "Task options");
			pmfit::SpawnOptions options;
			options.file = to_string(field(object, "file"), "file");
			options.argv = to_strings(field(object, "argv"), "argv");
			options.env = to_strings(field(object, "env"), "env");
			options.cwd = to_string(field(object, "cwd"), "cwd");
			options.cpu = to_int(field(object, "cpu"), "cpu");
			options.stdin_fd = to_int(field(object, "stdinFd"), "stdinFd");
			options.stdout_fd = to_int(field(object, "stdoutFd"), "stdoutFd");
			options.stderr_fd = to_int(field(object, "stderrFd"), "stderrFd");
			std::vector<std::string> guard = to_strings(field(object, "guardFiles"), "guardFiles");
			task_ = std::make_unique<pmfit::Task>(options, guard);
			return info.Env().Undefined();
		});
	}

private:
	pmfit::Task &
	task()
	{
		if (!task_)
			throw pmfit::TaskError("the tracee was never started");
		return *task_;
	}

	Napi::Value
	Pid(const Napi::CallbackInfo &info)
	{
		return number(info.Env(), task_ ? task_->pid() : -1);
	}

	Napi::Value
	SetFlushSites(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			Napi::Array array = to_array(info[0], "flush sites");
			std::vector<pmfit::RemotePtr> addresses;
			for (uint32_t i = 0; i < array.Length(); i++)
				addresses.emplace_back(to_uint64(array.Get(i), "flush site"));
			if (!info[1].IsBoolean())
				throw ArgError{"flush sites: complete must be a boolean"};
			task().set_flush_sites(addresses, info[1].As<Napi::Boolean>().Value());
			return info.Env().Undefined();
		});
	}

	Napi::Value
	SetBreakpoints(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			int kind = to_int(info[0], "breakpoint kind");
			if (kind < 0 || kind > 2)
				throw ArgError{"breakpoint kind must be 0, 1 or 2"};
			Napi::Array array = to_array(info[1], "breakpoint addresses");
			std::vector<pmfit::RemotePtr> addresses;
			for (uint32_t i = 0; i < array.Length(); i++)
				addresses.emplace_back(to_uint64(array.Get(i), "breakpoint address"));
			task().set_breakpoints((pmfit::BreakpointKind)kind, addresses);
			return info.Env().Undefined();
		});
	}

	Napi::Value
	SetPmRanges(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			Napi::Array array = to_array(info[0], "PM ranges");
			std::vector<pmfit::PmRange> ranges;
			for (uint32_t i = 0; i < array.Length(); i++) {
				Napi::Object object = to_object(array.Get(i), "PM range");
				pmfit::PmRange range;
				range.start = pmfit::RemotePtr(to_uint64(field(object, "start"), "PM range start"));
				range.end = pmfit::RemotePtr(to_uint64(field(object, "end"), "PM range end"));
				range.file_id = (uint32_t)to_uint64(field(object, "fileId"), "PM range fileId");
				range.file_offset = to_uint64(field(object, "fileOffset"), "PM range fileOffset");
				ranges.push_back(range);
			}
			task().set_pm_ranges(std::move(ranges));
			return info.Env().Undefined();
		});
	}

	Napi::Value
	SetInstruction(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			uint64_t address = to_uint64(info[0], "instruction address");
			pmfit::InsnInfo insn = to_insn(ObjectFields(info[1], "instruction info"));
			task().set_instruction(pmfit::RemotePtr(address), std::move(insn));
			return info.Env().Undefined();
		});
	}

	Napi::Value
	SetFlows(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			uint64_t address = to_uint64(info[0], "instruction address");
			task().set_flows(pmfit::RemotePtr(address), to_packed_insns(info[1]));
			return info.Env().Undefined();
		});
	}

	Napi::Value
	KnowRun(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			uint64_t address = to_uint64(info[0], "run address");
			if (!info[1].IsBuffer())
				throw ArgError{"run bytes must be a Buffer"};
			Napi::Buffer<uint8_t> buffer = info[1].As<Napi::Buffer<uint8_t>>();
			std::vector<uint8_t> bytes(buffer.Data(), buffer.Data() + buffer.Length());
			task().know_run(pmfit::RemotePtr(address), std::move(bytes), to_packed_insns(info[2]));
			return info.Env().Undefined();
		});
	}

	Napi::Value
	Resume(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			Napi::Object object = to_object(info[0], "resume options");
			pmfit::ResumeOptions options;
			options.stop_at = to_int64(field(object, "stopAt"), "stopAt");
			options.max_steps = to_int64(field(object, "maxSteps"), "maxSteps");
			options.budget = to_int64(field(object, "budget"), "budget");
			Napi::Value record = field(object, "record");
			if (!record.IsBoolean())
				throw ArgError{"record must be a boolean"};
			options.record = record.As<Napi::Boolean>().Value();
			Napi::Value fast = field(object, "fast");
			if (!fast.IsUndefined()) {
				if (!fast.IsBoolean())
					throw ArgError{"fast must be a boolean"};
				options.fast = fast.As<Napi::Boolean>().Value();
			}
			Napi::Value poll = field(object, "poll");
			if (!poll.IsUndefined()) {
				if (!poll.IsBoolean())
					throw ArgError{"poll must be a boolean"};
				options.poll = poll.As<Napi::Boolean>().Value();
			}
			return stop_object(info.Env(), task().resume(options));
		});
	}

	Napi::Value
	StepSyscall(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			if (!info[0].IsBoolean())
				throw ArgError{"diff must be a boolean"};
			bool untouched = false;
			if (info.Length() > 1 && !info[1].IsUndefined()) {
				if (!info[1].IsBoolean())
					throw ArgError{"untouched must be a boolean"};
				untouched = info[1].As<Napi::Boolean>().Value();
			}
			return stop_object(info.Env(),
					   task().step_syscall(info[0].As<Napi::Boolean>().Value(), untouched));
		});
	}

	Napi::Value
	TakeEvents(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			std::vector<uint8_t> events = task().take_events();
			return Napi::Buffer<uint8_t>::Copy(info.Env(), events.data(), events.size());
		});
	}

	Napi::Value
	ReadMemory(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			uint64_t address = to_uint64(info[0], "address");
			uint64_t length = to_uint64(info[1], "length");
			if (length > (1ull << 31))
				throw ArgError{"length is too large"};
			std::vector<uint8_t> bytes = task().read_memory(pmfit::RemotePtr(address), (size_t)length);
			return Napi::Buffer<uint8_t>::Copy(info.Env(), bytes.data(), bytes.size());
		});
	}

	Napi::Value
	Kill(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			if (task_)
				task_->kill();
			return info.Env().Undefined();
		});
	}

	Napi::Value
	FastStops(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			const pmfit::FastStops stops = task().fast_stops();
			Napi::Object object = Napi::Object::New(info.Env());
			object.Set("faults", Napi::Number::New(info.Env(), (double)stops.faults));
			object.Set("watchFaults", Napi::Number::New(info.Env(), (double)stops.watch_faults));
			object.Set("flushTraps", Napi::Number::New(info.Env(), (double)stops.flush_traps));
			object.Set("frontier", Napi::Number::New(info.Env(), (double)stops.frontier));
			object.Set("syscalls", Napi::Number::New(info.Env(), (double)stops.syscalls));
			object.Set("mprotects", Napi::Number::New(info.Env(), (double)stops.mprotects));
			object.Set("emulated", Napi::Number::New(info.Env(), (double)stops.emulated));
			return object;
		});
	}

	Napi::Value
	Forks(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(),
			     [&]() -> Napi::Value { return Napi::Number::New(info.Env(), (double)task().forks()); });
	}

	Napi::Value
	GuardRefusals(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			std::vector<std::string> lines = task().guard_refusals();
			Napi::Array array = Napi::Array::New(info.Env(), lines.size());
			for (uint32_t i = 0; i < lines.size(); i++)
				array.Set(i, Napi::String::New(info.Env(), lines[i]));
			return array;
		});
	}

	Napi::Value
	WatchWrites(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			Napi::Array array = to_array(info[0], "watched ranges");
			std::vector<pmfit::RemotePtr> bounds;
			for (uint32_t i = 0; i < array.Length(); i++) {
				Napi::Object object = to_object(array.Get(i), "watched range");
				bounds.emplace_back(to_uint64(field(object, "start"), "watched range start"));
				bounds.emplace_back(to_uint64(field(object, "end"), "watched range end"));
			}
			return Napi::Boolean::New(info.Env(), task().watch_writes(bounds));
		});
	}

	Napi::Value
	SetScheduleSeed(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			task().set_schedule_seed(to_uint64(info[0], "schedule seed"));
			return info.Env().Undefined();
		});
	}

	Napi::Value
	TakeWrittenPages(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			std::vector<pmfit::RemotePtr> pages =
				task().take_written_pages(pmfit::RemotePtr(to_uint64(info[0], "start")),
							  pmfit::RemotePtr(to_uint64(info[1], "end")));
			Napi::Array array = Napi::Array::New(info.Env(), pages.size());
			for (size_t i = 0; i < pages.size(); i++)
				array.Set((uint32_t)i, number(info.Env(), (double)pages[i].as_int()));
			return array;
		});
	}

	Napi::Value
	Stack(const Napi::CallbackInfo &info)
	{
		return guard(info.Env(), [&]() -> Napi::Value {
			uint64_t max = to_uint64(info[0], "maxFrames");
			if (max == 0 || max > 4096)
				throw ArgError{"maxFrames must be 1 to 4096"};
			std::vector<pmfit::UnwoundFrame> frames = task().stack((size_t)max);
			Napi::Array array = Napi::Array::New(info.Env(), frames.size());
			for (size_t i = 0; i < frames.size(); i++) {
				Napi::Object frame = Napi::Object::New(info.Env());
				frame.Set("address", number(info.Env(), (double)frames[i].pc.as_int()));
				frame.Set("caller", Napi::Boolean::New(info.Env(), frames[i].caller));
				array.Set((uint32_t)i, frame);
			}
			return array;
		});
	}

	/* destroyed with the wrapper: ~Task kills the tracee */
	std::unique_ptr<pmfit::Task> task_;
};

/* flat -- a vector of numbers as a JavaScript array */
Napi::Array
flat(Napi::Env env, const std::vector<uint64_t> &values)
{
	Napi::Array array = Napi::Array::New(env, values.size());
	for (uint32_t i = 0; i < values.size(); i++)
		array.Set(i, number(env, (double)values[i]));
	return array;
}

Napi::Value
DirtyPages(const Napi::CallbackInfo &info)
{
	return guard(info.Env(), [&]() -> Napi::Value {
		int fd = to_int(info[0], "fd");
		uint64_t size = to_uint64(info[1], "size");
		return flat(info.Env(), pmfit::dirty_pages(fd, size));
	});
}

Napi::Value
WriteBack(const Napi::CallbackInfo &info)
{
	return guard(info.Env(), [&]() -> Napi::Value {
		pmfit::write_back(to_int(info[0], "fd"));
		return info.Env().Undefined();
	});
}

Napi::Value
DataRanges(const Napi::CallbackInfo &info)
{
	return guard(info.Env(), [&]() -> Napi::Value {
		int fd = to_int(info[0], "fd");
		uint64_t size = to_uint64(info[1], "size");
		uint64_t unit = to_uint64(info[2], "unit");
		if (unit == 0)
			throw ArgError{"unit must be positive"};
		return flat(info.Env(), pmfit::data_ranges(fd, size, unit));
	});
}

Napi::Value
NonZeroUnits(const Napi::CallbackInfo &info)
{
	return guard(info.Env(), [&]() -> Napi::Value {
		int fd = to_int(info[0], "fd");
		uint64_t offset = to_uint64(info[1], "offset");
		if (!info[2].IsBuffer())
			throw ArgError{"into must be a Buffer"};
		Napi::Buffer<uint8_t> into = info[2].As<Napi::Buffer<uint8_t>>();
		uint64_t unit = to_uint64(info[3], "unit");
		if (unit == 0)
			throw ArgError{"unit must be positive"};
		return flat(info.Env(), pmfit::nonzero_units(fd, offset, into.Data(), into.Length(), (size_t)unit));
	});
}

Napi::Value
BecomeSubreaper(const Napi::CallbackInfo &info)
{
	try {
		pmfit::become_subreaper();
	} catch (const pmfit::TaskError &err) {
		Napi::Error::New(info.Env(), err.what()).ThrowAsJavaScriptException();
	}
	return info.Env().Undefined();
}

Napi::Value
StartSentinel(const Napi::CallbackInfo &info)
{
	return guard(info.Env(), [&]() -> Napi::Value {
		std::string file = to_string(info[0], "sentinel file");
		std::vector<std::string> argv = to_strings(info[1], "sentinel argv");
		std::vector<std::string> env = to_strings(info[2], "sentinel env");
		return number(info.Env(), pmfit::start_sentinel(file, argv, env));
	});
}

Napi::Value
LoadUnwinder(const Napi::CallbackInfo &info)
{
	return guard(info.Env(), [&]() -> Napi::Value {
		return Napi::String::New(info.Env(), pmfit::Unwinder::load(to_string(info[0], "library")));
	});
}

Napi::Object
Init(Napi::Env env, Napi::Object exports)
{
	exports.Set("Task", TaskWrap::Define(env));
	exports.Set("dirtyPages", Napi::Function::New<DirtyPages>(env, "dirtyPages"));
	exports.Set("writeBack", Napi::Function::New<WriteBack>(env, "writeBack"));
	exports.Set("dataRanges", Napi::Function::New<DataRanges>(env, "dataRanges"));
	exports.Set("nonZeroUnits", Napi::Function::New<NonZeroUnits>(env, "nonZeroUnits"));
	exports.Set("becomeSubreaper", Napi::Function::New<BecomeSubreaper>(env, "becomeSubreaper"));
	exports.Set("startSentinel", Napi::Function::New<StartSentinel>(env, "startSentinel"));
	exports.Set("loadUnwinder", Napi::Function::New<LoadUnwinder>(env, "loadUnwinder"));
	return exports;
}

} /* namespace */

NODE_API_MODULE(pmfit_tracer, Init)
